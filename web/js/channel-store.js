// The base of the stores the dashboard keeps for a whole signed-in visit
// (containers, alerts): what one channel said last, held outside the pages
// so a page renders at once when opened and the nav badge is right on every
// page. Pages listen for "change".

export class ChannelStore extends EventTarget {
  /** @param {string} channel */
  constructor(channel) {
    super();
    this.channel = channel;
    this.unsubscribe = null;
    this.error = null;
  }

  /**
   * Follow the channel on this connection instead of the previous one.
   * `handlers` as for Connection.subscribe; a failure is kept in `error`,
   * for the pages to say.
   */
  _follow(connection, handlers) {
    this._stop();
    this.unsubscribe = connection.subscribe(this.channel, {
      onError: (err) => {
        this.error = err.message;
        this._emit();
      },
      ...handlers,
    });
  }

  _stop() {
    if (this.unsubscribe) this.unsubscribe();
    this.unsubscribe = null;
  }

  _emit() {
    this.dispatchEvent(new Event("change"));
  }
}
