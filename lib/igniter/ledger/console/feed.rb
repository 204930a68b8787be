# frozen_string_literal: true

require "set"

module Igniter
  module Ledger
    class Console
      # The live feed's Server-Sent Events stream (`api/events`).
      #
      # Over a {Store::ChangefeedBuffer} (the server's, or the store's own)
      # it is the HTTP adapter's own SSE machinery ({Store::HTTPAdapter::SseEventsHandler}):
      # the same frames, cursor (`Last-Event-ID` or `?cursor=`), store filter
      # and 409 for a cursor the ring no longer holds. A store without a
      # changefeed buffer is streamed the same way, from its log ({LogSource}).
      #
      # Positions: the frame ids are "transaction_time:fact_id" from either
      # source (over a buffer, the durable positions of doc/feed_positions.md,
      # resumed from the store's log once the ring no longer holds them). The
      # browser only echoes them back as `Last-Event-ID`.
      class Feed
        # @return [Store::ChangefeedBuffer, nil] the buffer streamed from, if any
        attr_reader :buffer

        # @param store [Store::IgniterStore]
        # @param changefeed [Store::ChangefeedBuffer, nil]
        # @param heartbeat_interval [Numeric]
        # @param poll_interval [Numeric]
        # @raise [ArgumentError] for a changefeed that is not a ChangefeedBuffer or bad intervals
        def initialize(store, changefeed:, heartbeat_interval:, poll_interval:)
          unless changefeed.nil? || changefeed.is_a?(Store::ChangefeedBuffer)
            raise ArgumentError, "changefeed must be an Igniter::Store::ChangefeedBuffer, got #{changefeed.class}"
          end

          { heartbeat_interval: heartbeat_interval, poll_interval: poll_interval }.each do |name, value|
            raise ArgumentError, "#{name} must be a positive number, got #{value.inspect}" unless value.is_a?(Numeric) && value.positive?
          end
          @store = store
          @buffer = changefeed || (store.changefeed if store.changefeed.is_a?(Store::ChangefeedBuffer))
          @heartbeat_interval = heartbeat_interval
          @streams = Set.new.compare_by_identity
          @lock = Mutex.new
          @log_source = LogSource.new(store, poll_interval: poll_interval) unless @buffer
          return unless @buffer

          buffer = @buffer
          @handler = Store::HTTPAdapter::SseEventsHandler.new(-> { buffer }, heartbeat_interval: heartbeat_interval,
                                                                              on_open: method(:opened),
                                                                              on_close: method(:closed),
                                                                              log: -> { store })
        end

        # @param env [Hash] Rack env of `GET api/events`
        # @return [Array] Rack response (a streaming body)
        def call(env)
          return @handler.call(env) if @handler

          request = Rack::Request.new(env)
          cursor = LogSource.cursor_from(env["HTTP_LAST_EVENT_ID"] || request.params["cursor"])
          body = Store::HTTPAdapter::SseBody.new(@log_source, stores: stores(request.params),
                                                              heartbeat_interval: @heartbeat_interval,
                                                              on_close: method(:closed))
          body.open(cursor)
          opened(body)
          [200, Store::HTTPAdapter::SseEventsHandler::SSE_HEADERS.dup, body]
        end

        # Ends every open stream.
        def close_streams
          @lock.synchronize { @streams.to_a }.each(&:close)
        end

        # @return [Integer]
        def open_streams
          @lock.synchronize { @streams.size }
        end

        private

        def opened(body)
          @lock.synchronize { @streams << body }
        end

        def closed(body)
          @lock.synchronize { @streams.delete(body) }
        end

        def stores(params)
          list = Array(params["stores"] || params["store"]).flat_map { |s| s.to_s.split(",") }.map(&:strip)
          list = list.reject(&:empty?).uniq
          list.empty? ? nil : list
        end
      end
    end
  end
end
