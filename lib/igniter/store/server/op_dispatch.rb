# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # The legacy ops of the op protocol (doc/servers.md "The op protocol"), answered against
      # the server's one {IgniterStore}. Mixed into {StoreServer}.
      module OpDispatch
        # Ops that change stored data; they need the write token when one is set.
        WRITE_OPS = %w[write_fact write_snapshot].freeze
        # Ops anyone may send (liveness and goodbye); every other op is a read.
        OPEN_OPS = %w[ping close].freeze
        # Every op the server knows (metric labels: any other is "unknown").
        KNOWN_OPS = %w[write_fact replay write_snapshot stats server_status ping close subscribe envelope].freeze
        # Error codes of an `envelope` request the router refused, by failure kind.
        ENVELOPE_ERROR_CODES = { bad_envelope: :bad_envelope, unknown_op: :unknown_op, invalid_packet: :invalid_packet,
                                 internal: :internal_error }.freeze

        # A request without the token its op needs.
        class Unauthorized < StandardError; end

        # A read token asking to write.
        class Forbidden < StandardError; end

        # A well-formed request with arguments the op cannot take.
        class InvalidRequestError < StandardError; end

        # @param request [Hash] Symbol-keyed request object
        # @return [Hash] response without request_id (`ok` first)
        def dispatch_op(request)
          op = request[:op]
          denied = denial(request)
          return denied if denied

          case op
          when "write_fact" then op_write_fact(request)
          when "replay" then op_replay(request)
          when "write_snapshot" then op_write_snapshot(request)
          when "stats" then op_stats
          when "server_status" then { ok: true }.merge(observability_snapshot)
          when "envelope" then op_envelope(request)
          when "ping" then { ok: true, pong: true }
          when "close" then { ok: true }
          else error_reply(:unknown_op, "Unknown op: #{op.inspect}")
          end
        rescue InvalidFactError => e
          error_reply(:invalid_fact, e.message)
        rescue InvalidRequestError => e
          error_reply(:invalid_request, e.message)
        rescue StandardError => e
          error_reply(:internal_error, Transport::ErrorText.first_line(e))
        end

        # @return [Hash] `{ok: false, error_code:, error:}`
        def error_reply(code, message)
          { ok: false, error_code: code.to_s, error: message }
        end

        # @param op [Object] a request's op
        # @return [Symbol] :write, :read or :open
        def op_access(op, request = nil)
          return :write if WRITE_OPS.include?(op)
          return TransportSupport.access_of(envelope_op(request)) if op == "envelope"

          OPEN_OPS.include?(op) ? :open : :read
        end

        # @param op [Object]
        # @return [String] the op if known, else "unknown" (a bounded metric label)
        def op_label(op)
          KNOWN_OPS.include?(op) ? op : "unknown"
        end

        # @param request [Hash]
        # @return [Hash, nil] the error reply when the request's token is not
        #   enough for its op, else nil
        def denial(request)
          authorize!(request)
          nil
        rescue Unauthorized => e
          error_reply(:unauthorized, e.message)
        rescue Forbidden => e
          error_reply(:forbidden, e.message)
        end

        private

        def authorize!(request)
          access = op_access(request[:op], request)
          name = request[:op] == "envelope" ? "envelope #{envelope_op(request)}" : request[:op]
          case @auth.check(access, request[:token])
          when :ok then nil
          when :forbidden then raise Forbidden, "#{name} requires the write token; a read token cannot write"
          else
            need = access == :write ? "the write token" : "a read or write token"
            raise Unauthorized, "#{name} requires a valid token (#{need})"
          end
        end

        def envelope_op(request)
          envelope = request.is_a?(Hash) ? request[:envelope] : nil
          envelope.is_a?(Hash) ? envelope[:op] : nil
        end

        # One open-protocol envelope (the ops of `POST /v1/dispatch`: read,
        # history, query, fact_by_id, causation_chain, write, …) answered by
        # the server's store: how {RemoteStore} reads without replaying the
        # ledger. The reply carries the response envelope; an envelope the
        # router refused is an error reply whose code names the failure.
        def op_envelope(request)
          envelope = request[:envelope]
          raise InvalidRequestError, "envelope requires an \"envelope\" object" unless envelope.is_a?(Hash)

          envelope = { protocol: Protocol::WireEnvelope::PROTOCOL }.merge(envelope)
          response, failure = protocol.wire.dispatch_classified(envelope)
          label = TransportSupport.op_label(envelope[:op])
          TransportSupport.count_facts(@metrics, :op, label, response)
          return { ok: true, envelope: with_symbols(response, label) } if failure.nil?

          message = if failure.kind == :invalid_packet then TransportSupport.packet_problem(failure.error, envelope[:op])
                    else response[:error].to_s
                    end
          error_reply(ENVELOPE_ERROR_CODES.fetch(failure.kind), message)
        end

        # JSON has no Symbols: a `read` (or `time_travel`) result also says where the value's
        # Symbols stand (`symbols`, as in a fact body, doc/format.md), so the
        # client reads the value a local read returns. (History and
        # fact_by_id send whole facts, which carry them already.)
        def with_symbols(response, op)
          return response unless %w[read time_travel].include?(op) && response[:result].is_a?(Hash)

          symbols = JsonCanon.symbol_paths(response[:result][:value])
          symbols.empty? ? response : response.merge(result: response[:result].merge(symbols: symbols))
        end

        def op_write_fact(request)
          @store.ingest_fact(decode_fact(request[:fact]))
          @metrics.record_facts_written
          { ok: true }
        end

        # Every live fact in commit (= WAL) order, including those replayed
        # from the backend at startup. Without "limit" the whole log goes in
        # one frame, as 0.5.2 clients expect; with "limit" (and the cursor
        # "after": last fact id received, "offset": facts received so far) it
        # is one page plus "more", so a log bigger than a frame can cross.
        def op_replay(request)
          facts = @store.fact_log_all
          limit = request[:limit]
          return replay_reply(facts, nil) if limit.nil?
          raise InvalidRequestError, "replay limit must be a positive Integer" unless limit.is_a?(Integer) && limit.positive?

          start = replay_start(facts, request[:after], request[:offset])
          replay_reply(facts[start, limit] || [], start + limit < facts.size)
        end

        def replay_reply(facts, more)
          @metrics.record_facts_replayed(count: facts.size)
          reply = { ok: true, facts: facts.map(&:to_h) }
          reply[:more] = more unless more.nil?
          reply
        end

        # Index just past the cursor fact; the offset is only a hint, since
        # compaction may have shifted positions between pages.
        def replay_start(facts, after, offset)
          return 0 if after.nil?

          hint = offset.is_a?(Integer) && offset.positive? ? offset : nil
          return hint if hint && facts[hint - 1]&.id == after

          index = facts.index { |f| f.id == after }
          raise InvalidRequestError, "replay cursor #{after.inspect} is not in the log" if index.nil?

          index + 1
        end

        # A checkpoint of the client's facts (file backend); a no-op in memory.
        def op_write_snapshot(request)
          return { ok: true } unless @backend

          raw = request[:facts]
          raise InvalidFactError, "write_snapshot requires a \"facts\" array" unless raw.is_a?(Array)

          @store.write_backend_snapshot(raw.map { |h| decode_fact(h) })
          { ok: true }
        end

        # facts_written is the store's live fact count (durable facts replayed
        # at startup included), not 0.5.2's count of writes since construction.
        # A file or segmented ledger adds what opening it recovered.
        def op_stats
          reply = { ok: true, facts_written: @store.fact_count, connections_active: active_connections,
                    uptime_ms: uptime_ms }
          reply[:recovery] = recovery if recovery
          reply
        end

        def decode_fact(raw)
          WireFact.decode(raw)
        end
      end
    end
  end
end
