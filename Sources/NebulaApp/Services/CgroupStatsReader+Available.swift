import Logging
import Telemetry

extension CgroupStatsReader {
    /// The fast path for container usage when this process can see the cgroup mounts, with a
    /// log line either way so an operator knows which path is in use.
    static func available(logger: Logger) -> CgroupStatsReader? {
        do {
            let reader = try CgroupStatsReader()
            logger.debug("container usage: cgroup files where readable, the Engine API otherwise")
            return reader
        } catch {
            logger.notice("container usage: Engine API only", metadata: ["reason": "\(error)"])
            return nil
        }
    }
}
