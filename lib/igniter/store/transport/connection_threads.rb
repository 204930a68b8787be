# frozen_string_literal: true

module Igniter
  module Store
    module Transport
      # Thread-per-connection serving of the envelope servers (TCPAdapter,
      # the built-in HTTP server): a bounded set of client threads, each
      # closing its socket when done, and a stop that closes every socket
      # and joins the threads within one budget.
      class ConnectionThreads
        # @param max [Integer] concurrent connections; more are refused
        # @param logger [#warn, nil] gets unexpected connection errors
        # @param label [String] prefix of those log lines
        def initialize(max:, logger:, label:)
          @max = max
          @logger = logger
          @label = label
          @clients = {}
          @lock = Mutex.new
          @stopped = false
        end

        # Accepts until +listener+ is closed. Each socket is served by the
        # block on its own thread; over the limit it is handed to +refuse+
        # (to say why), then closed.
        # @param listener [TCPServer, UNIXServer]
        # @param refuse [#call] called with the socket
        # @yieldparam socket [BasicSocket]
        # @return [nil]
        def accept_loop(listener, refuse, &serve)
          loop { admit(listener.accept, refuse, &serve) }
        rescue IOError, SystemCallError
          nil # listener closed by stop
        end

        # Stops admitting, closes +listener+ and every client socket, then
        # joins +accept_thread+ (unless it is the caller) and the client
        # threads, within +timeout+ seconds in all.
        # @return [nil]
        def shutdown(listener, accept_thread, timeout)
          sockets = @lock.synchronize do
            @stopped = true
            @clients.keys
          end
          SocketIO.close_quietly(listener)
          sockets.each { |socket| SocketIO.close_quietly(socket) }
          deadline = Clock.monotonic + timeout
          accept_thread.join(Clock.left(deadline)) if accept_thread && !accept_thread.equal?(Thread.current)
          Clock.join_all(@lock.synchronize { @clients.values }, Clock.left(deadline))
        end

        # @return [Integer] connections being served
        def size
          @lock.synchronize { @clients.size }
        end

        private

        def admit(socket, refuse, &serve)
          admitted = @lock.synchronize do
            next :stopped if @stopped
            next :full if @clients.size >= @max

            @clients[socket] = Thread.new { run(socket, &serve) }.tap { |t| t.report_on_exception = false }
            :ok
          end
          return if admitted == :ok

          refuse.call(socket) if admitted == :full
          SocketIO.close_quietly(socket)
        rescue IOError, SystemCallError
          SocketIO.close_quietly(socket)
        end

        def run(socket)
          yield socket
        rescue IOError, SystemCallError
          nil # idle, slow or vanished peer (TimedReader::Timeout is an IOError)
        rescue StandardError => e
          TransportSupport.log(@logger, :warn, "#{@label}: #{e.class}: #{TransportSupport.safe_message(e)}")
        ensure
          SocketIO.close_quietly(socket)
          @lock.synchronize { @clients.delete(socket) }
        end
      end
    end
  end
end
