# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # `GET /v1/events`: cursor-resumable SSE stream of the changefeed.
      # Cursor from `Last-Event-ID` (wins) or `?cursor=`; store filter from
      # `?stores=a,b` or `?store=` (repeatable). Event ids are durable
      # positions ({DurableFeed}, doc/feed_positions.md): resuming from one
      # works across a server restart; a position the ledger cannot serve
      # gets 409, a malformed cursor 400.
      class SseEventsHandler < GetHandler
        # Response headers of an event stream.
        SSE_HEADERS = {
          "Content-Type" => "text/event-stream; charset=utf-8",
          "Cache-Control" => "no-cache",
          "X-Accel-Buffering" => "no"
        }.freeze
        # A negative numeric cursor, refused with 400.
        NEGATIVE = /\A-\d+\z/.freeze

        # @param provider [#call, nil] returns the ChangefeedBuffer (or nil)
        # @param heartbeat_interval [Numeric]
        # @param on_open [#call, nil] called with each body that streams
        # @param on_close [#call, nil] called with each body when it closes
        # @param admit [#call, nil] false = no room for another stream (503)
        # @param log [#call, nil] returns the store whose commits the buffer
        #   carries, so positions the ring no longer holds are read from its log
        def initialize(provider, heartbeat_interval: SseBody::DEFAULT_HEARTBEAT_INTERVAL, on_open: nil, on_close: nil,
                       admit: nil, log: nil)
          super(provider)
          @log = log
          @heartbeat_interval = heartbeat_interval
          @on_open = on_open
          @on_close = on_close
          @admit = admit
        end

        private

        # @return [Array] Rack response: 200 stream, 400 bad cursor, 409 cursor too old, 503 not configured,
        #   closed or too many streams
        def get(env)
          buffer = @provider&.call
          return json_response(503, { error: "SSE events endpoint not configured" }) if buffer.nil?
          return json_response(503, { error: "Too many event streams open; retry later" }) if @admit && !@admit.call

          params = query_params(env)
          raw = cursor_text(env, params)
          return bad_request("Invalid cursor: #{raw} (must be >= 0)") if raw&.match?(NEGATIVE)

          cursor = DurableFeed.cursor(raw)
          body = SseBody.new(DurableFeed.new(buffer, @log&.call), stores: stores(params),
                                                                  heartbeat_interval: @heartbeat_interval,
                                                                  on_close: @on_close)
          result = body.open(cursor)
          return too_old(result) unless result[:status] == :ok

          @on_open&.call(body)
          [200, SSE_HEADERS.dup, body]
        rescue ChangefeedBuffer::ClosedError
          json_response(503, { error: "SSE events endpoint unavailable: changefeed is closed" })
        rescue ArgumentError => e
          bad_request(e.message)
        end

        # @return [String, nil] Last-Event-ID when sent (not blank), else `?cursor=`
        def cursor_text(env, params)
          [env["HTTP_LAST_EVENT_ID"], last_param(params, "cursor")].each do |raw|
            text = raw.to_s.strip
            return text unless text.empty?
          end
          nil
        end

        def stores(params)
          raw = params.key?("stores") ? params["stores"] : params["store"]
          list = Array(raw).flat_map { |item| item.to_s.split(",") }.map(&:strip).reject(&:empty?).uniq
          list.empty? ? nil : list
        end

        def too_old(result)
          json_response(409, { status: result[:status].to_s, error: result[:error], oldest_cursor: result[:oldest_cursor],
                               newest_cursor: result[:newest_cursor], dropped_total: result[:dropped_total] }.compact)
        end
      end
    end
  end
end
