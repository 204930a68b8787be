# frozen_string_literal: true

require "securerandom"
require "time"

module Igniter
  module Store
    # Thread-safe counters of one server, over every transport it serves
    # (op protocol `op`, envelope TCP `tcp`, HTTP `http`, MCP `mcp`):
    # connections, requests by op and status, errors by class, request
    # durations, facts, bytes and subscriptions, plus latched threshold
    # alerts. One {Server::MetricRegistry} holds them; {#snapshot} is the
    # 0.5.2 JSON view (sums over the transports), {#families} the labelled
    # series `GET /metrics` renders.
    class ServerMetrics
      # One open connection (kept only while it is open).
      ConnectionRecord = Struct.new(:connection_id, :accepted_at, :closed_at, :remote_addr, :ops_count,
                                    :bytes_in, :bytes_out, :last_op, :close_reason, :transport, keyword_init: true)

      # A fired threshold alert; `alert.type` and `alert[:type]` both work.
      Alert = Struct.new(:id, :fired_at, :type, :threshold, :current_value, :message, keyword_init: true)

      # nil disables an alert; replay_size is accepted but never evaluated (as in 0.5.2).
      DEFAULT_THRESHOLDS = {
        max_connections: 500, error_rate: 0.1, replay_size: 10_000, quarantine_receipt_count: 10,
        storage_byte_size: 1_073_741_824, slow_op_count: nil
      }.freeze

      # Prefix of every metric name.
      PREFIX = "igniter_ledger_"
      # The transport a recording names when the caller does not say (0.5.2's only one).
      DEFAULT_TRANSPORT = :op

      REQUESTS = "#{PREFIX}requests_total"
      RECEIVED = "#{PREFIX}received_bytes_total"
      SENT = "#{PREFIX}sent_bytes_total"
      DURATION = "#{PREFIX}request_duration_seconds"
      private_constant :REQUESTS, :RECEIVED, :SENT, :DURATION

      # @return [Hash] effective thresholds
      attr_reader :thresholds

      # @param thresholds [Hash] merged over DEFAULT_THRESHOLDS
      def initialize(thresholds: {})
        @thresholds = DEFAULT_THRESHOLDS.merge(thresholds || {})
        @lock = Mutex.new
        @started = Transport::Clock.monotonic
        @connections = {}
        @subscriptions = Hash.new(0)
        @alerts = []
        @registry = Server::MetricRegistry.new
        define_families
      end

      # @param remote_addr [String]
      # @param transport [Symbol] :op or :tcp
      # @return [String] new connection id (16 lowercase hex)
      def record_connection_accepted(remote_addr:, transport: DEFAULT_TRANSPORT)
        id = SecureRandom.hex(8)
        @lock.synchronize do
          @connections[id] = ConnectionRecord.new(connection_id: id, accepted_at: Time.now,
                                                  remote_addr: remote_addr.to_s, transport: transport,
                                                  ops_count: 0, bytes_in: 0, bytes_out: 0)
        end
        @registry.increment(name(:connections_accepted_total), { transport: transport })
        id
      end

      # Counts a close even for an unknown id.
      # @return [nil]
      def record_connection_closed(id:, reason: nil, transport: nil)
        record = @lock.synchronize { @connections.delete(id) }
        if record
          record.closed_at = Time.now
          record.close_reason = reason
        end
        @registry.increment(name(:connections_closed_total),
                            { transport: record&.transport || transport || DEFAULT_TRANSPORT })
        nil
      end

      # @param transport [Symbol]
      # @param reason [Symbol] :full (over the connection limit) or :draining
      # @return [nil]
      def record_connection_rejected(transport: DEFAULT_TRANSPORT, reason: :full)
        @registry.increment(name(:connections_rejected_total), { transport: transport, reason: reason })
        nil
      end

      # One answered request.
      # @param connection_id [String, nil] the op/tcp connection, nil for HTTP and MCP
      # @param op [String, Symbol] a known op name (or "unknown"), see the class comment of {Server::MetricRegistry}
      # @param bytes_in [Integer] request body bytes
      # @param bytes_out [Integer] response bytes
      # @param transport [Symbol] :op, :tcp, :http or :mcp
      # @param status [String, Integer] "ok", an error code, or the HTTP status
      # @param duration [Numeric, nil] seconds it took; nil records no duration
      # @return [nil]
      def record_request(connection_id:, op:, bytes_in: 0, bytes_out: 0, transport: DEFAULT_TRANSPORT, status: "ok",
                         duration: nil)
        count_on_connection(connection_id, op, bytes_in, bytes_out) if connection_id
        by_transport = { transport: transport }
        @registry.batch do |b|
          b.increment(REQUESTS, { transport: transport, op: op, status: status })
          b.increment(RECEIVED, by_transport, by: bytes_in.to_i)
          b.increment(SENT, by_transport, by: bytes_out.to_i)
          b.observe(DURATION, { transport: transport, op: op }, duration) if duration
        end
        nil
      end

      # Bytes sent after the request was counted (a streamed SSE body).
      # @return [nil]
      def record_bytes_out(count, transport:)
        @registry.increment(name(:sent_bytes_total), { transport: transport }, by: count.to_i)
        nil
      end

      # @param op [String, Symbol]
      # @param error_class [String] an exception class or an error kind (`RequestError`, `NotFound`, …)
      # @param transport [Symbol]
      # @return [nil]
      def record_error(op:, error_class:, transport: DEFAULT_TRANSPORT)
        @registry.increment(name(:errors_total), { transport: transport, op: op, class: error_class })
        nil
      end

      # @return [nil]
      def record_slow_op(op:, transport: DEFAULT_TRANSPORT)
        @registry.increment(name(:slow_requests_total), { transport: transport, op: op })
        nil
      end

      # @return [nil]
      def record_facts_written(count: 1, transport: DEFAULT_TRANSPORT)
        @registry.increment(name(:facts_written_total), { transport: transport }, by: count.to_i)
        nil
      end

      # @return [nil]
      def record_facts_replayed(count:, transport: DEFAULT_TRANSPORT)
        @registry.increment(name(:facts_replayed_total), { transport: transport }, by: count.to_i)
        nil
      end

      # @return [nil]
      def record_subscription_opened(store:)
        @lock.synchronize { @subscriptions[store.to_s] += 1 }
        nil
      end

      # Floors at 0; the store's key is kept.
      # @return [nil]
      def record_subscription_closed(store:)
        @lock.synchronize { @subscriptions[store.to_s] = [@subscriptions[store.to_s] - 1, 0].max }
        nil
      end

      # @return [Integer] per-store subscription registrations (a wildcard counts 0)
      def subscription_count
        @lock.synchronize { @subscriptions.values.sum }
      end

      # @return [Integer] open connection records
      def active_connections
        @lock.synchronize { @connections.size }
      end

      # @param backend [Object, nil] asked for `storage_stats` when it has it
      # @return [Hash] see doc/servers.md "Metrics snapshot" (key order pinned)
      def snapshot(backend: nil)
        stats = storage_stats_of(backend)
        counts = totals
        @lock.synchronize do
          {
            schema_version: 1, generated_at: Time.now.iso8601(3), uptime_ms: uptime_ms,
            **counts.slice(:facts_written, :facts_replayed, :bytes_in, :bytes_out, :requests_total, :errors_total,
                           :slow_ops_total),
            active_connections: @connections.size,
            **counts.slice(:accepted_connections_total, :closed_connections_total, :rejected_connections_total),
            subscription_count: @subscriptions.values.sum, subscriptions_by_store: @subscriptions.dup,
            storage_stats: stats, alerts: @alerts.map(&:to_h)
          }
        end
      end

      # The labelled series: the recorded families, then open connections
      # per transport.
      # @return [Array<Hash>] see {Server::MetricRegistry#collect}
      def families
        open = @lock.synchronize { @connections.values.map(&:transport).tally }
        @registry.collect + [{ name: name(:connections), type: :gauge, help: "Connections open now",
                               samples: open.map { |transport, count| { labels: { transport: transport }, value: count } } }]
      end

      # Fires each alert whose current value exceeds its threshold, at most
      # once per type for the life of these metrics.
      # @param backend [Object, nil]
      # @return [Array<Alert>] every alert fired so far
      def check_alerts(backend: nil)
        stats = storage_stats_of(backend)
        requests = @registry.sum(name(:requests_total))
        errors = @registry.sum(name(:errors_total))
        slow = @registry.sum(name(:slow_requests_total))
        @lock.synchronize do
          check(:max_connections, @connections.size)
          check(:error_rate, errors.to_f / requests) if requests.positive?
          if stats.is_a?(Hash) && stats["stores"].is_a?(Hash)
            stores = stats["stores"].values.select { |s| s.is_a?(Hash) }
            check(:quarantine_receipt_count, stores.sum { |s| s["quarantine_receipt_count"].to_i })
            check(:storage_byte_size, stores.sum { |s| s["byte_size"].to_i })
          end
          check(:slow_op_count, slow) if slow.positive?
          @alerts.dup
        end
      end

      # @return [Array<Alert>] copies of the fired alerts
      def alerts
        @lock.synchronize { @alerts.map(&:dup) }
      end

      private

      def name(short)
        "#{PREFIX}#{short}"
      end

      def count_on_connection(connection_id, op, bytes_in, bytes_out)
        @lock.synchronize do
          record = @connections[connection_id]
          return unless record

          record.ops_count += 1
          record.bytes_in += bytes_in.to_i
          record.bytes_out += bytes_out.to_i
          record.last_op = op.to_s
        end
      end

      # rubocop:disable Metrics/MethodLength -- one family per line reads best
      def define_families
        r = @registry
        r.counter(name(:requests_total), "Requests answered, by transport, op and status",
                  labels: %i[transport op status])
        r.counter(name(:errors_total), "Requests and connections that failed, by transport, op and error class",
                  labels: %i[transport op class])
        r.histogram(name(:request_duration_seconds), "Time to answer a request, by transport and op",
                    labels: %i[transport op])
        r.counter(name(:slow_requests_total), "Requests slower than slow_op_threshold_ms", labels: %i[transport op])
        r.counter(name(:facts_written_total), "Facts written through the server", labels: %i[transport])
        r.counter(name(:facts_replayed_total), "Facts sent to clients by replay requests", labels: %i[transport])
        r.counter(name(:received_bytes_total), "Request bytes received", labels: %i[transport])
        r.counter(name(:sent_bytes_total), "Response bytes sent", labels: %i[transport])
        r.counter(name(:connections_accepted_total), "Connections accepted", labels: %i[transport])
        r.counter(name(:connections_closed_total), "Connections closed", labels: %i[transport])
        r.counter(name(:connections_rejected_total), "Connections refused (over the limit or draining)",
                  labels: %i[transport reason])
      end
      # rubocop:enable Metrics/MethodLength

      # The 0.5.2 snapshot's numbers: every transport summed.
      def totals
        r = @registry
        errors = r.collect.find { |family| family[:name] == name(:errors_total) }[:samples]
        {
          facts_written: r.sum(name(:facts_written_total)), facts_replayed: r.sum(name(:facts_replayed_total)),
          bytes_in: r.sum(name(:received_bytes_total)), bytes_out: r.sum(name(:sent_bytes_total)),
          requests_total: r.sum_by(name(:requests_total), :op).to_h,
          errors_total: errors.each_with_object(Hash.new(0)) do |sample, out|
            out["#{sample[:labels][:class]}/#{sample[:labels][:op]}"] += sample[:value]
          end.to_h,
          slow_ops_total: r.sum_by(name(:slow_requests_total), :op).to_h,
          accepted_connections_total: r.sum(name(:connections_accepted_total)),
          closed_connections_total: r.sum(name(:connections_closed_total)),
          rejected_connections_total: r.sum(name(:connections_rejected_total))
        }
      end

      def check(type, current)
        threshold = @thresholds[type]
        return if threshold.nil? || current <= threshold
        return if @alerts.any? { |alert| alert.type == type }

        @alerts << Alert.new(id: SecureRandom.hex(6), fired_at: Time.now, type: type, threshold: threshold,
                             current_value: current, message: "#{type} exceeded threshold: #{current} > #{threshold}")
      end

      def storage_stats_of(backend)
        return nil unless Capabilities.of(backend).include?(Capabilities::STORAGE_STATS)

        backend.storage_stats
      rescue StandardError
        nil
      end

      def uptime_ms
        [((Transport::Clock.monotonic - @started) * 1000).ceil, 1].max
      end
    end
  end
end
