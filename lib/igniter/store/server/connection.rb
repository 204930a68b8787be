# frozen_string_literal: true

require "json"

module Igniter
  module Store
    module Server
      # One accepted op-protocol connection, served on its own thread by
      # the server's {Transport::AcceptLoop}: frames in, one response frame
      # per request, in order; or, after `subscribe`, pushed `fact_written`
      # frames. All bookkeeping (metrics, events) happens before the
      # response is written, so a client that got its reply can already
      # observe it.
      class Connection
        # Nesting bound for request bodies (a fact's value included).
        MAX_JSON_NESTING = 100

        # The peer stopped reading replies (an IOError, so it ends the
        # connection like any broken socket).
        WriteTimeout = Transport::SocketIO::WriteTimeout

        # @return [BasicSocket]
        attr_reader :socket
        # @return [String, nil] metrics id, once {#run} started
        attr_reader :id

        # @param server [StoreServer]
        # @param slot [Transport::ConnectionSlot] the accepted socket, as the accept loop tracks it
        def initialize(server, slot)
          @server = server
          @slot = slot
          @socket = slot.socket
          @reader = Transport::FrameReader.new(@socket, max_bytes: server.max_frame_bytes, timeout: server.read_timeout)
          @write_lock = Mutex.new
        end

        # Serves the connection until the peer leaves, asks to close, sends
        # a damaged frame, times out, or the server closes the socket.
        # @return [nil]
        def run
          peer = Transport::SocketIO.peer_ip(@socket)
          @id = @server.metrics.record_connection_accepted(remote_addr: peer)
          @server.emit_event(:connection_open, connection_id: @id, remote_addr: peer)
          Transport::TLS.accept_handshake(@socket, @server.read_timeout) if Transport::TLS.tls?(@socket)
          reason = serve
        rescue Transport::TLS::HandshakeError
          reason = :tls_error
        rescue IOError, Errno::ECONNRESET, Errno::EPIPE, Errno::EBADF, Errno::ENOTCONN
          reason = :io_error
        rescue StandardError => e
          reason = :error
          @server.connection_failed(@id, e)
        ensure
          close_socket
          @server.connection_closed(self, reason || :error)
        end

        private

        def serve
          loop do
            result = @reader.read(idle: @server.idle_timeout)
            case result.kind
            when :frame then return :normal if handle_busy(result.body) == :done
            when :eof, :torn then return :normal
            when :idle_timeout then return :idle_timeout
            else return refuse_stream(result)
            end
          end
        end

        # A request that was read before a drain closed the connection is
        # answered; one that arrives after is not started.
        def handle_busy(body)
          outcome = nil
          started = @slot.busy { outcome = handle_frame(body) }
          started ? outcome : :done
        end

        # The stream cannot be trusted after these; say why, then close.
        def refuse_stream(result)
          message = case result.kind
                    when :too_large
                      "frame of #{result.length} bytes exceeds max_frame_bytes #{@server.max_frame_bytes}"
                    when :bad_crc then "frame CRC mismatch"
                    else "frame not received within read_timeout #{@server.read_timeout}s"
                    end
          code = { too_large: :frame_too_large, bad_crc: :bad_frame, read_timeout: :read_timeout }.fetch(result.kind)
          reply = @server.error_reply(code, message)
          @server.metrics.record_error(op: "connection", error_class: code.to_s)
          @server.emit_event(:request_error, level: :warn, connection_id: @id, op: "", error: message)
          write_raw(Transport::JsonFrame.encode(reply))
          result.kind
        end

        # @return [:done, nil]
        def handle_frame(body)
          request, invalid = parse(body)
          op = request ? request[:op] : ""
          if op == "subscribe"
            # A subscribe without the token reads need is answered like any
            # refused request; the connection stays a normal one.
            denied = @server.denial(request)
            return subscription(request) unless denied

            respond(body, request, op) { denied }
            return nil
          end

          respond(body, request, op) { invalid || @server.dispatch_op(request) }
          op == "close" ? :done : nil
        end

        # @return [Array(Hash, nil)] the request, or nil and an error reply
        def parse(body)
          parsed = JSON.parse(body.dup.force_encoding(Encoding::UTF_8), symbolize_names: true,
                                                                         max_nesting: MAX_JSON_NESTING)
          return [parsed, nil] if parsed.is_a?(Hash)

          [nil, @server.error_reply(:invalid_request, "request must be a JSON object, got #{TransportSupport.json_kind(parsed)}")]
        rescue JSON::ParserError, JSON::NestingError, EncodingError => e
          [nil, @server.error_reply(:invalid_request, "invalid JSON: #{Transport::ErrorText.first_line(e)}")]
        end

        def respond(body, request, op)
          started = Transport::Clock.monotonic
          response = yield
          elapsed = Transport::Clock.monotonic - started
          @server.check_slow_op(@id, op, (elapsed * 1000).ceil)
          request_id = request && request[:request_id]
          response = response.merge(request_id: request_id) if request_id
          frame = Transport::JsonFrame.encode(response)
          @server.record_request(@id, op.to_s, body.bytesize, frame.bytesize, response, elapsed)
          write_raw(frame)
          nil
        end


        # Register with the changefeed first, then ack: a write racing the ack
        # is queued for this subscriber and pushed after the ack (the worker
        # waits for the write lock the ack holds). With `after` (a position,
        # doc/feed_positions.md) the facts after it are pushed next, still
        # under that lock; live events they already covered are skipped.
        def subscription(request)
          stores = Array(request[:stores]).map(&:to_s)
          handle = nil
          @write_lock.synchronize do
            catch_up = nil
            handle = @server.changefeed.subscribe(stores: stores) { |event| push_live(event, catch_up) }
            if request.key?(:after)
              catch_up, refusal = catch_up_after(request[:after], stores)
              if refusal
                handle.close(timeout: 0.5)
                handle = nil
                write_unlocked(Transport::JsonFrame.encode(refusal))
                return :done
              end
            end
            @server.subscription_opened(@id, stores)
            write_unlocked(Transport::JsonFrame.encode({ ok: true }))
            catch_up&.each_value { |fact| write_unlocked(push_frame(fact)) }
          end
          # A subscriber only waits from here on: a drain may close it.
          @slot.idle!
          wait_for_close
          :done
        ensure
          if handle
            handle.close(timeout: 0.5)
            @server.subscription_closed(@id, stores)
          end
        end

        # Frames other than `close` are read and ignored; no idle timeout here.
        def wait_for_close
          loop do
            result = @reader.read(idle: nil)
            return unless result.kind == :frame

            request, = parse(result.body)
            return if request && request[:op] == "close"
          end
        end

        # The facts after position +after+ (by fact id, in log order), or
        # the error reply when it is malformed or cannot be served.
        # @return [Array(Hash{String => Fact}, nil), Array(nil, Hash)]
        def catch_up_after(after, stores)
          cursor = after.is_a?(String) ? DurableFeed.cursor(after) : nil
          unless cursor && cursor[:sequence].is_a?(String)
            raise ArgumentError, "subscribe after must be a position \"transaction_time:fact_id\" " \
                                 "(DurableFeed.position_of(fact)), got #{after.inspect[0, 80]}"
          end

          feed = DurableFeed.new(@server.changefeed, @server.store)
          result = feed.replay(cursor: cursor, stores: stores.empty? ? nil : stores)
          return [nil, @server.error_reply(result[:status], result[:error])] unless result[:status] == :ok

          [result[:events].to_h { |event| [event.change.fact_id, event.change.fact] }, nil]
        rescue ArgumentError => e
          [nil, @server.error_reply(:invalid_request, e.message)]
        end

        # A live event, unless the catch-up already pushed it: events queue in
        # commit order, so once one is new, none of the later ones was pushed.
        def push_live(event, catch_up)
          @write_lock.synchronize do
            if catch_up && !catch_up.empty?
              next if catch_up.key?(event.fact_id)

              catch_up.clear
            end
            write_unlocked(push_frame(event.fact))
          end
        rescue IOError, SystemCallError
          # Dead or stalled subscriber: closing the socket ends its reading
          # loop, which releases the subscription.
          @slot.force_close
        end

        # `fact` is the fact body the envelope read ops send
        # ({Protocol::FactDocument}): 0.5.2's eleven members in their order,
        # plus `symbols` (so `Fact.from_h` on the subscriber restores Symbol
        # values) and the ISO-8601 times, which 0.5.2 clients ignore.
        def push_frame(fact)
          Transport::JsonFrame.encode({ event: "fact_written", fact: Protocol::FactDocument.from(fact),
                                        position: DurableFeed.position_of(fact) })
        end

        def write_raw(frame)
          @write_lock.synchronize { write_unlocked(frame) }
        end

        # A peer that stops reading must not hold this thread forever: the
        # write gives up after read_timeout seconds without progress.
        def write_unlocked(frame)
          Transport::SocketIO.write_all(@socket, frame, @server.read_timeout, per_wait: true)
        end

        def close_socket
          Transport::SocketIO.close_quietly(@socket)
        end
      end
    end
  end
end
