# frozen_string_literal: true

require "time"

module Igniter
  module Store
    # The parts of {StoreServer}: settings, listener, op dispatch, events, recovery report, CLI (doc/servers.md).
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

        # Server event => its log level.
        LEVELS = {
          request: :debug, request_error: :warn, slow_op: :warn, backend_error: :error
        }.freeze

        # Events of one op-protocol connection: logged by component `op`;
        # the others (server_start, server_stop, server_draining, alert) by `server`.
        CONNECTION_EVENTS = %i[connection_open connection_close request request_error slow_op subscription_open
                               subscription_close backend_error].freeze

        # Logs and records an event; never raises. Ring entries are
        # `{type:, level:, ts:, **attrs}` with Symbol type/level, whatever the log level.
        # @return [nil]
        def emit_event(type, level: LEVELS.fetch(type, :info), **attrs)
          (CONNECTION_EVENTS.include?(type) ? @op_logger : @logger).event(type, level: level, **attrs)
          @events.push({ type: type, level: level, ts: Time.now.iso8601(3) }.merge(attrs.except(:type, :level, :ts)))
          nil
        rescue StandardError
          nil
        end

        # The op protocol's access line: one `request` event (debug) per
        # answered request, `request_error` (warn) for an error reply, with
        # status, duration, bytes and the client's request_id.
        # @api private
        def record_request(connection_id, op, bytes_in, bytes_out, response, duration = nil)
          label = op_label(op)
          status = response[:ok] == false ? response[:error_code].to_s : "ok"
          @metrics.record_request(connection_id: connection_id, op: label, bytes_in: bytes_in, bytes_out: bytes_out,
                                  status: status, duration: duration)
          # The log names what the client sent (cut short); metrics only known ops.
          access = { connection_id: connection_id, op: op.to_s[0, 64], status: status,
                     duration_ms: ((duration || 0) * 1000).round(3), bytes_in: bytes_in, bytes_out: bytes_out }
          access[:request_id] = response[:request_id] if response.key?(:request_id)
          if response[:ok] == false
            @metrics.record_error(op: label, error_class: "RequestError")
            emit_event(:request_error, **access, error: response[:error])
          else
            emit_event(:request, **access)
          end
        end

        # Counts and logs an op slower than the configured threshold.
        # @api private
        def check_slow_op(connection_id, op, elapsed_ms)
          return if @slow_op_threshold_ms.nil? || elapsed_ms <= @slow_op_threshold_ms

          @metrics.record_slow_op(op: op_label(op))
          emit_event(:slow_op, connection_id: connection_id, op: op.to_s, elapsed_ms: elapsed_ms,
                               threshold_ms: @slow_op_threshold_ms)
        end

        # Records a push subscription opened on a connection (metrics, event).
        # @api private
        def subscription_opened(connection_id, stores)
          @lock.synchronize { @push_subscribers += 1 }
          stores.each { |store| @metrics.record_subscription_opened(store: store) }
          emit_event(:subscription_open, connection_id: connection_id, stores: stores)
        end

        # Records a push subscription closed (metrics, event).
        # @api private
        def subscription_closed(connection_id, stores)
          @lock.synchronize { @push_subscribers -= 1 }
          stores.each { |store| @metrics.record_subscription_closed(store: store) }
          emit_event(:subscription_close, connection_id: connection_id, stores: stores)
        end

        # Records a connection that ended with an error (last error, log, event, metrics).
        # @api private
        def connection_failed(connection_id, error)
          message = Transport::ErrorText.first_line(error)
          @last_error = message
          @op_logger.warn("handle_client: #{error.class}: #{message}")
          emit_event(:backend_error, connection_id: connection_id, error_class: error.class.name, message: message)
          @metrics.record_error(op: "connection", error_class: error.class.name)
        end

        # Records a closed connection and why (metrics, event, debug log).
        # @api private
        def connection_closed(connection, reason)
          @metrics.record_connection_closed(id: connection.id, reason: reason)
          emit_event(:connection_close, connection_id: connection.id, reason: reason)
          @op_logger.debug("Connection closed (reason=#{reason})")
        end
      end
    end
  end
end
