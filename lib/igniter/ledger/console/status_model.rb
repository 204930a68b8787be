# frozen_string_literal: true

require "time"

module Igniter
  module Ledger
    class Console
      # The status page's data: what the server reports (its observability
      # snapshot, when the console was given one) or what the store itself
      # knows, plus `series`: the numbers the page charts, sampled by the
      # browser each time it asks.
      class StatusModel
        # Server metrics charted when present, with their labels. Hash-valued
        # metrics (requests per op) are charted as their sum.
        SERVER_SERIES = {
          facts_written: "facts written", requests_total: "requests", errors_total: "errors",
          active_connections: "connections", subscription_count: "subscriptions",
          bytes_in: "bytes in", bytes_out: "bytes out"
        }.freeze
        # Changefeed counters charted on the status page, with their labels.
        FEED_SERIES = { emitted_total: "feed events", total_queued: "feed queued", dropped_total: "feed evicted" }.freeze

        # @param read_model [ReadModel]
        # @param status [#call, nil] the server's observability snapshot
        # @param changefeed [Store::ChangefeedBuffer, nil]
        def initialize(read_model, status:, changefeed:)
          @read_model = read_model
          @status = status
          @changefeed = changefeed
        end

        # @return [Hash] `generated_at, source, status, uptime_ms, ledger, metrics,
        #   alerts, storage, server, changefeed, series`
        def snapshot
          census = @read_model.census
          provided = server_snapshot
          own = provided || @read_model.store.protocol.observability_snapshot
          feed = (provided && provided[:changefeed]) || @changefeed&.snapshot
          metrics = own[:metrics].is_a?(Hash) ? own[:metrics] : {}
          { generated_at: Time.now.utc.iso8601(3), source: provided ? "server" : "store",
            status: own[:status], uptime_ms: own[:uptime_ms],
            ledger: census.slice(:fact_count, :store_count, :key_count),
            metrics: metrics, alerts: Array(own[:alerts]), storage: own[:storage], server: own[:server],
            changefeed: feed, series: series(census, metrics, feed.is_a?(Hash) ? feed : {}) }
        end

        private

        def server_snapshot
          snapshot = @status&.call
          snapshot.is_a?(Hash) ? snapshot : nil
        rescue StandardError => e
          { status: "unavailable", alerts: [{ message: "status provider failed: #{e.class}" }] }
        end

        def series(census, metrics, feed)
          out = { "facts in ledger" => census[:fact_count], "keys" => census[:key_count] }
          SERVER_SERIES.each { |name, label| number(out, label, metrics[name]) }
          FEED_SERIES.each { |name, label| number(out, label, feed[name]) }
          out
        end

        def number(out, label, value)
          value = value.values.grep(Numeric).sum if value.is_a?(Hash)
          out[label] = value if value.is_a?(Numeric)
        end
      end
    end
  end
end
