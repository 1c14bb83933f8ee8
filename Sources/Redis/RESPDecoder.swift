import NIOCore

/// Turns the bytes of a Redis connection into whole replies, through hiredis's reader.
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    private let reader = RESPReader()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes > 0 else { return .needMoreData }
        try buffer.readableBytesView.withUnsafeBytes { try reader.feed($0) }
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        while let value = try reader.next() {
            context.fireChannelRead(wrapInboundOut(value))
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
