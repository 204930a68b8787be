# frozen_string_literal: true

module Igniter
  module Store
    module Transport
      # Bookkeeping of failed accept(2) calls, shared by {AcceptLoop} and the
      # listener puma accepts from ({HTTPAdapter::GuardedListener}): a run of
      # failures (a burst) is logged and reported once, each retry waits a
      # little longer ({Backoff}), and one line says when accepting works
      # again. Not thread-safe: one accepting thread owns one instance.
      class AcceptBursts
        # accept(2) errors that say "not now", not "the listener is gone":
        # descriptors (EMFILE/ENFILE), kernel memory (ENOMEM/ENOBUFS), a peer
        # gone before it was accepted (ECONNABORTED/EPROTO/ECONNRESET).
        TRANSIENT_ERRORS = [Errno::EMFILE, Errno::ENFILE, Errno::ENOMEM, Errno::ENOBUFS, Errno::ECONNABORTED,
                            Errno::EPROTO, Errno::ECONNRESET].freeze

        # @return [Integer] bursts so far
        attr_reader :count

        # @param name [String] prefix of the log lines ("TCPAdapter", ...)
        # @param logger [#warn, #info, nil]
        # @param on_error [#call, nil] called with the first error of each burst (metrics)
        # @param backoff [Backoff]
        def initialize(name:, logger: nil, on_error: nil, backoff: Backoff.new)
          @name = name
          @logger = logger
          @on_error = on_error
          @backoff = backoff
          @count = 0
          @started = nil
        end

        # @return [Boolean] the last accept failed
        def failing?
          @backoff.backing_off?
        end

        # Records a failed accept.
        # @param error [Exception]
        # @return [Float] seconds to wait before the retry
        def failed(error)
          unless failing?
            @count += 1
            @started = Clock.monotonic
            expected = TRANSIENT_ERRORS.any? { |klass| error.is_a?(klass) }
            TransportSupport.log(@logger, :warn,
                                 "#{@name}: accept failed: #{error.class}: #{ErrorText.first_line(error)}; " \
                                 "#{expected ? "backing off" : "unexpected, backing off"} and retrying")
            report(error)
          end
          @backoff.next_delay
        end

        # Records a successful accept (a no-op outside a burst).
        # @return [nil]
        def succeeded
          return nil unless failing?

          seconds = (Clock.monotonic - @started).round(3)
          TransportSupport.log(@logger, :info,
                               "#{@name}: accepting again after #{@backoff.attempts} failed accept(s) in #{seconds}s")
          @backoff.reset
          nil
        end

        private

        def report(error)
          @on_error&.call(error)
        rescue StandardError
          nil
        end
      end
    end
  end
end
