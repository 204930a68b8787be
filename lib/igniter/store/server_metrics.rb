# frozen_string_literal: true

require "securerandom"
require "time"

module Igniter
  module Store
    # Thread-safe counters of one server: connections, requests, errors,
    # slow ops, facts, bytes and subscriptions, plus latched threshold alerts.
    class ServerMetrics
      # One open connection (kept only while it is open).
      ConnectionRecord = Struct.new(:connection_id, :accepted_at, :closed_at, :remote_addr, :ops_count,
                                    :bytes_in, :bytes_out, :last_op, :close_reason, keyword_init: true)

      # A fired threshold alert; `alert.type` and `alert[:type]` both work.
      Alert = Struct.new(:id, :fired_at, :type, :threshold, :current_value, :message, keyword_init: true)

      # nil disables an alert; replay_size is accepted but never evaluated (as in 0.5.2).
      DEFAULT_THRESHOLDS = {
        max_connections: 500, error_rate: 0.1, replay_size: 10_000, quarantine_receipt_count: 10,
        storage_byte_size: 1_073_741_824, slow_op_count: nil
      }.freeze

      # @return [Hash] effective thresholds
      attr_reader :thresholds

      # @param thresholds [Hash] merged over DEFAULT_THRESHOLDS
      def initialize(thresholds: {})
        @thresholds = DEFAULT_THRESHOLDS.merge(thresholds || {})
        @lock = Mutex.new
        @started = Transport::Clock.monotonic
        @connections = {}
        @accepted = @closed = @rejected = 0
        @requests = Hash.new(0)
        @errors = Hash.new(0)
        @slow_ops = Hash.new(0)
        @facts_written = @facts_replayed = @bytes_in = @bytes_out = 0
        @subscriptions = Hash.new(0)
        @alerts = []
      end

      # @param remote_addr [String]
      # @return [String] new connection id (16 lowercase hex)
      def record_connection_accepted(remote_addr:)
        id = SecureRandom.hex(8)
        @lock.synchronize do
          @connections[id] = ConnectionRecord.new(connection_id: id, accepted_at: Time.now,
                                                  remote_addr: remote_addr.to_s,
                                                  ops_count: 0, bytes_in: 0, bytes_out: 0)
          @accepted += 1
        end
        id
      end

      # Counts a close even for an unknown id.
      # @return [nil]
      def record_connection_closed(id:, reason: nil)
        @lock.synchronize do
          record = @connections.delete(id)
          if record
            record.closed_at = Time.now
            record.close_reason = reason
          end
          @closed += 1
        end
        nil
      end

      # @return [nil]
      def record_connection_rejected
        @lock.synchronize { @rejected += 1 }
        nil
      end

      # @return [nil]
      def record_request(connection_id:, op:, bytes_in: 0, bytes_out: 0)
        @lock.synchronize do
          @requests[op.to_s] += 1
          @bytes_in += bytes_in.to_i
          @bytes_out += bytes_out.to_i
          record = @connections[connection_id]
          if record
            record.ops_count += 1
            record.bytes_in += bytes_in.to_i
            record.bytes_out += bytes_out.to_i
            record.last_op = op.to_s
          end
        end
        nil
      end

      # @return [nil]
      def record_error(op:, error_class:)
        @lock.synchronize { @errors["#{error_class}/#{op}"] += 1 }
        nil
      end

      # @return [nil]
      def record_slow_op(op:)
        @lock.synchronize { @slow_ops[op.to_s] += 1 }
        nil
      end

      # @return [nil]
      def record_facts_written(count: 1)
        @lock.synchronize { @facts_written += count.to_i }
        nil
      end

      # @return [nil]
      def record_facts_replayed(count:)
        @lock.synchronize { @facts_replayed += count.to_i }
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
      # @return [Hash] see spec 05 §6.3 (key order pinned)
      def snapshot(backend: nil)
        stats = storage_stats_of(backend)
        @lock.synchronize do
          {
            schema_version: 1, generated_at: Time.now.iso8601(3), uptime_ms: uptime_ms,
            facts_written: @facts_written, facts_replayed: @facts_replayed,
            bytes_in: @bytes_in, bytes_out: @bytes_out,
            requests_total: @requests.dup, errors_total: @errors.dup, slow_ops_total: @slow_ops.dup,
            active_connections: @connections.size, accepted_connections_total: @accepted,
            closed_connections_total: @closed, rejected_connections_total: @rejected,
            subscription_count: @subscriptions.values.sum, subscriptions_by_store: @subscriptions.dup,
            storage_stats: stats, alerts: @alerts.map(&:to_h)
          }
        end
      end

      # Fires each alert whose current value exceeds its threshold, at most
      # once per type for the life of these metrics.
      # @param backend [Object, nil]
      # @return [Array<Alert>] every alert fired so far
      def check_alerts(backend: nil)
        stats = storage_stats_of(backend)
        @lock.synchronize do
          check(:max_connections, @connections.size)
          requests = @requests.values.sum
          check(:error_rate, @errors.values.sum.to_f / requests) if requests.positive?
          if stats.is_a?(Hash) && stats["stores"].is_a?(Hash)
            stores = stats["stores"].values.select { |s| s.is_a?(Hash) }
            check(:quarantine_receipt_count, stores.sum { |s| s["quarantine_receipt_count"].to_i })
            check(:storage_byte_size, stores.sum { |s| s["byte_size"].to_i })
          end
          slow = @slow_ops.values.sum
          check(:slow_op_count, slow) if slow.positive?
          @alerts.dup
        end
      end

      # @return [Array<Alert>] copies of the fired alerts
      def alerts
        @lock.synchronize { @alerts.map(&:dup) }
      end

      private

      def check(type, current)
        threshold = @thresholds[type]
        return if threshold.nil? || current <= threshold
        return if @alerts.any? { |alert| alert.type == type }

        @alerts << Alert.new(id: SecureRandom.hex(6), fired_at: Time.now, type: type, threshold: threshold,
                             current_value: current, message: "#{type} exceeded threshold: #{current} > #{threshold}")
      end

      def storage_stats_of(backend)
        return nil unless backend.respond_to?(:storage_stats)

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
