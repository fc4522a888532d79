import NIOCore
import NIOHTTPTypes

/// Per-connection watchdog in the server's channel pipeline (after HTTP decoding).
///
/// - **Stalled requests**: from the moment a connection is ready for a request (opened, or
///   the previous response finished) the whole request, head and body, must arrive within
///   `requestTimeout`; otherwise the connection is closed. A client that trickles a header or
///   a body byte by byte (slowloris) cannot hold a connection, and an idle keep-alive
///   connection is closed after the same time.
/// - **Clients that leave**: when the client closes its side, the connection is closed, so
///   the route sees `closeFuture` complete and cancels the generation it started for it
///   (a non-streaming request otherwise ran to completion for nobody). HTTP clients that
///   half-close and still wait for an answer are not supported.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPRequestPart
  typealias InboundOut = HTTPRequestPart
  typealias OutboundIn = HTTPResponsePart
  typealias OutboundOut = HTTPResponsePart

  private let requestTimeout: TimeAmount
  private var deadline: Scheduled<Void>?
  /// Responses still to be finished for requests fully read.
  private var responding = 0

  init(requestTimeout: TimeAmount) {
    self.requestTimeout = requestTimeout
  }

  func handlerAdded(context: ChannelHandlerContext) {
    if context.channel.isActive { arm(context) }
  }

  func channelActive(context: ChannelHandlerContext) {
    arm(context)
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    disarm()
    context.fireChannelInactive()
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    disarm()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if case .end = unwrapInboundIn(data) {
      responding += 1
      disarm()
    }
    context.fireChannelRead(data)
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    if case .end = unwrapOutboundIn(data) {
      responding = max(0, responding - 1)
      if responding == 0 { arm(context) }
    }
    context.write(data, promise: promise)
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if let event = event as? ChannelEvent, event == .inputClosed {
      context.close(promise: nil)
      return
    }
    context.fireUserInboundEventTriggered(event)
  }

  private func arm(_ context: ChannelHandlerContext) {
    disarm()
    let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
    deadline = context.eventLoop.scheduleTask(in: requestTimeout) {
      loopBound.value.close(promise: nil)
    }
  }

  private func disarm() {
    deadline?.cancel()
    deadline = nil
  }
}
