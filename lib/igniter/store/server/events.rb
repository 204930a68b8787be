# frozen_string_literal: true

require "time"

module Igniter
  module Store
    module Server
      # Structured events and per-request bookkeeping of {StoreServer}:
      # each event is one logger line and one {EventRing} entry. Called by
      # {Connection} before it writes the response.
      module Events
        # Keys of `observability_snapshot[:metrics]`, in order.
        OBSERVED_METRICS = %i[
          requests_total errors_total slow_ops_total facts_written facts_replayed bytes_in bytes_out
          active_connections accepted_connections_total closed_connections_total rejected_connections_total
          subscription_count
        ].freeze

        LEVELS = {
          request: :debug, request_error: :warn, slow_op: :warn, backend_error: :error
        }.freeze

        # Logs and records an event; never raises. Ring entries are
        # `{type:, level:, ts:, **attrs}` with Symbol type/level, whatever the log level.
        # @return [nil]
        def emit_event(type, level: LEVELS.fetch(type, :info), **attrs)
          @logger.event(type, level: level, **attrs)
          @events.push({ type: type, level: level, ts: Time.now.iso8601(3) }.merge(attrs.except(:type, :level, :ts)))
          nil
        rescue StandardError
          nil
        end

        # @api private
        def record_request(connection_id, op, bytes_in, bytes_out, response)
          @metrics.record_request(connection_id: connection_id, op: op, bytes_in: bytes_in, bytes_out: bytes_out)
          if response[:ok] == false
            @metrics.record_error(op: op, error_class: "RequestError")
            emit_event(:request_error, connection_id: connection_id, op: op, error: response[:error])
          else
            emit_event(:request, connection_id: connection_id, op: op)
          end
        end

        # @api private
        def check_slow_op(connection_id, op, elapsed_ms)
          return if @slow_op_threshold_ms.nil? || elapsed_ms <= @slow_op_threshold_ms

          @metrics.record_slow_op(op: op)
          emit_event(:slow_op, connection_id: connection_id, op: op.to_s, elapsed_ms: elapsed_ms,
                               threshold_ms: @slow_op_threshold_ms)
        end

        # @api private
        def subscription_opened(connection_id, stores)
          stores.each { |store| @metrics.record_subscription_opened(store: store) }
          emit_event(:subscription_open, connection_id: connection_id, stores: stores)
        end

        # @api private
        def subscription_closed(connection_id, stores)
          stores.each { |store| @metrics.record_subscription_closed(store: store) }
          emit_event(:subscription_close, connection_id: connection_id, stores: stores)
        end

        # @api private
        def connection_failed(connection_id, error)
          message = Transport::ErrorText.first_line(error)
          @last_error = message
          @logger.warn("handle_client: #{error.class}: #{message}")
          emit_event(:backend_error, connection_id: connection_id, error_class: error.class.name, message: message)
          @metrics.record_error(op: "connection", error_class: error.class.name)
        end

        # @api private
        def connection_closed(connection, reason)
          @metrics.record_connection_closed(id: connection.id, reason: reason)
          emit_event(:connection_close, connection_id: connection.id, reason: reason)
          @logger.debug("Connection closed (reason=#{reason})")
        end
      end
    end
  end
end
