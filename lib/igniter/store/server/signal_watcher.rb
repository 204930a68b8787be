# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # Turns SIGTERM/SIGINT into a call on a normal thread. The trap only
      # writes one byte to a self-pipe (nothing that takes a Mutex, which
      # Ruby forbids in trap context and which made 0.5.2 crash on Ctrl-C);
      # a watcher thread reads it and runs the handler once.
      class SignalWatcher
        # @param signals [Array<String>] e.g. %w[TERM INT]
        # @yield called once, on the watcher thread, at the first signal
        def initialize(signals, &handler)
          @reader, @writer = IO.pipe
          @previous = signals.to_h do |sig|
            [sig, Signal.trap(sig) { notify }]
          end
          @thread = Thread.new do
            Thread.current.report_on_exception = false
            handler.call if wait_for_signal
          end
        end

        # Restores the previous traps and ends the watcher without running the handler.
        # @return [nil]
        def restore
          @previous.each { |sig, old| Signal.trap(sig, old || "DEFAULT") }
          @writer.close unless @writer.closed?
          # The handler (a bounded server stop) finishes before we return.
          @thread.join unless @thread.equal?(Thread.current)
          @reader.close unless @reader.closed?
          nil
        end

        private

        def notify
          @writer.write_nonblock(".", exception: false)
        rescue IOError
          nil
        end

        # true for a signal byte, false when {#restore} closed the pipe.
        def wait_for_signal
          !@reader.read(1).nil?
        rescue IOError
          false
        end
      end
    end
  end
end
