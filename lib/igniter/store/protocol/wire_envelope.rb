# frozen_string_literal: true

require_relative "../engine"
require_relative "functions"
require_relative "receipt"

module Igniter
  module Store
    module Protocol
      # OP3 router: one request envelope in, one response envelope out, no
      # I/O (doc/protocol.md "Envelope"). Transports parse JSON with symbolized names, call
      # {#dispatch} and generate JSON from the response.
      class WireEnvelope
        # The `protocol` every envelope carries.
        PROTOCOL = :igniter_store
        # The envelope's `schema_version`.
        SCHEMA_VERSION = 1
        # The ops an envelope may name (doc/protocol.md "Envelope").
        OPERATIONS = %i[
          register_descriptor write append write_fact read query resolve causation_chain lineage fact_ref
          metadata_snapshot descriptor_snapshot observability_snapshot sync_hub_profile replay storage_stats
          segment_manifest compaction_activity history fact_by_id stats time_travel
        ].freeze

        # @param interpreter [Interpreter]
        def initialize(interpreter)
          @interpreter = interpreter
        end

        # What went wrong in a {#dispatch_classified} error envelope, for
        # transports that map failures to their own codes (HTTP statuses):
        # `kind` is :bad_envelope (not an envelope, wrong protocol or
        # schema_version), :unknown_op, :invalid_packet (a missing or invalid
        # packet field: KeyError, ArgumentError, TypeError, InvalidFactError,
        # an unencodable value) or :internal; `error` is the exception, if any.
        Failure = Struct.new(:kind, :error)

        # Exceptions of the router that mean "the packet is wrong", not "the server is".
        # RangeError: a number too big for the op (an Integer limit beyond 64 bits).
        CLIENT_ERRORS = [KeyError, ArgumentError, TypeError, RangeError, InvalidFactError, JSON::GeneratorError].freeze

        # Routes +envelope+ to the interpreter. Never raises: every failure
        # becomes an error envelope. Protocol rejections (bad descriptor or
        # fact packet) are ok envelopes carrying a rejected {Receipt}.
        #
        # An absent +schema_version+ counts as 1; an explicit other value is
        # refused (0.5.2 did not check).
        #
        # @param envelope [Hash] +protocol, schema_version, request_id, op, packet+
        # @return [Hash] +protocol, schema_version, request_id, status+ and +result+ or +error+
        def dispatch(envelope)
          dispatch_classified(envelope).first
        end

        # {#dispatch}, also saying what kind of failure an error envelope is.
        # @param envelope [Hash]
        # @return [Array(Hash, Failure), Array(Hash, nil)] the response, and its {Failure} or nil
        def dispatch_classified(envelope)
          request_id = packet = nil
          env = Protocol.symbolize_top(envelope)
          request_id = env[:request_id]
          protocol = token(env[:protocol])
          return failed(request_id, :bad_envelope, "Unknown protocol: #{protocol.inspect}") unless protocol == PROTOCOL

          version = env.fetch(:schema_version, SCHEMA_VERSION)
          unless version.nil? || version == SCHEMA_VERSION
            return failed(request_id, :bad_envelope,
                          "Unsupported schema_version: #{version.inspect} (expected #{SCHEMA_VERSION})")
          end

          op = token(env[:op])
          return failed(request_id, :unknown_op, "Unknown or missing op: #{op.inspect}") unless OPERATIONS.include?(op)

          packet = env[:packet] || {}
          packet = PacketFields.check!(op, times(op, Protocol.symbolize_top(packet))) if packet.is_a?(Hash)
          [ok(request_id, route(op, packet)), nil]
        rescue StandardError => e
          kind = if packet.nil? then :bad_envelope
                 elsif !packet.is_a?(Hash) || CLIENT_ERRORS.any? { |klass| e.is_a?(klass) } then :invalid_packet
                 else :internal
                 end
          [error(request_id, "Internal error: #{plain_message(e)}"), Failure.new(kind, e)]
        end

        private

        def route(op, packet)
          i = @interpreter
          case op
          when :register_descriptor then i.register(packet)
          when :write
            packet = with_symbols(packet)
            i.write(store: packet.fetch(:store), key: packet.fetch(:key), value: packet.fetch(:value),
                    **packet.slice(:causation, :valid_time, :term, :producer, :derivation))
          when :append
            packet = with_symbols(packet, :event)
            i.append(history: packet.fetch(:history), event: packet.fetch(:event),
                     **packet.slice(:key, :partition_key, :valid_time, :term, :producer, :derivation),
                     schema_version: packet.fetch(:schema_version, 1))
          when :write_fact then i.write_fact(packet)
          when :read
            value = i.read(store: packet.fetch(:store), key: packet.fetch(:key), **packet.slice(:as_of, :valid_at))
            { value: value, found: !value.nil? }
          when :time_travel
            # IgniterStore#time_travel over the wire: `read` as of `at` (doc/bitemporal.md).
            value = i.read(store: packet.fetch(:store), key: packet.fetch(:key), as_of: packet.fetch(:at),
                           valid_at: packet[:valid_at])
            { value: value, found: !value.nil? }
          when :query
            return scope_listing(packet) if packet[:scope]

            facts = i.query_facts(store: packet.fetch(:store), where: packet.fetch(:where, {}), order: packet[:order],
                                  limit: packet[:limit], as_of: packet[:as_of])
            fact_listing(facts)
          when :history
            facts = i.fact_history(store: packet.fetch(:store), key: packet[:key],
                                   **packet.slice(:since, :as_of, :valid_from, :valid_to))
            { facts: facts.map { |f| FactDocument.from(f) }, count: facts.size }
          when :fact_by_id
            fact = i.fact_by_id(packet.fetch(:fact_id))
            { found: !fact.nil?, fact: fact && FactDocument.from(fact) }
          when :stats then i.ledger_stats
          when :resolve
            listing(i.resolve_items(Protocol.name!(packet.fetch(:relation), "relation"), from: packet.fetch(:from), as_of: packet[:as_of]))
          when :causation_chain
            chain = i.causation_chain(store: packet.fetch(:store), key: packet.fetch(:key))
            { chain: chain, count: chain.size }
          when :lineage then i.lineage(store: packet.fetch(:store), key: packet.fetch(:key))
          when :fact_ref
            ref = i.fact_ref(packet.fetch(:fact_id))
            { found: !ref.nil?, ref: ref }
          when :metadata_snapshot then i.metadata_snapshot
          when :descriptor_snapshot then i.descriptor_snapshot
          when :observability_snapshot then i.observability_snapshot
          when :sync_hub_profile then i.sync_hub_profile(**packet.slice(:as_of, :cursor, :stores, :limit))
          when :replay then replay(packet)
          when :storage_stats then i.storage_stats(store: packet[:store])
          when :segment_manifest then i.segment_manifest(store: packet[:store])
          when :compaction_activity then i.compaction_activity(**packet.slice(:store, :kind, :since, :limit))
          end
        end

        # Paging keys (+after+, +limit+) add +next_cursor+ and +truncated+ to
        # the result, so a client can resume exactly where the page ended.
        def replay(packet)
          facts = @interpreter.replay(**packet.slice(:from, :to, :filter, :after, :limit))
          result = { facts: facts, count: facts.size }
          return result unless packet.key?(:after) || packet.key?(:limit)

          cursor = facts.empty? ? packet[:after] : ReplayCursor.after(facts.last)
          truncated = !packet[:limit].nil? && facts.size == packet[:limit] &&
                      !@interpreter.replay(**packet.slice(:from, :to, :filter), after: cursor, limit: 1).empty?
          result.merge(next_cursor: cursor, truncated: truncated)
        end

        # A registered access path (`scope`) instead of `where`: the store's
        # own scope query, whose facts come along whole.
        def scope_listing(packet)
          fact_listing(@interpreter.scope_query(store: packet.fetch(:store), scope: packet[:scope], as_of: packet[:as_of]))
        end

        # A listing of whole facts: 0.5.2's `items`/`results`/`count`, plus
        # `facts`, the fact bodies ({FactDocument}: `symbols` included), so
        # a remote client reads the values a local query returns.
        def fact_listing(facts)
          listing(facts.map { |f| { key: f.key, value: f.value } }).merge(facts: facts.map { |f| FactDocument.from(f) })
        end

        # A write or append packet may carry `symbols`, the paths of the Symbols in its
        # value, producer and derivation as a fact body lists them
        # (doc/format.md), so a remote client writes the value a local write
        # would (JSON has no Symbols).
        # An append packet's `event` is the fact's value (`"value"` paths).
        def with_symbols(packet, value_field = :value)
          trie = FactDecode.symbol_trie(packet[:symbols]) or return packet
          { value_field => "value", producer: "producer", derivation: "derivation" }.each_with_object(packet.dup) do |(field, name), out|
            out[field] = FactDecode.apply_symbols(out[field], trie[name]) if out.key?(field)
          end
        end

        # Reads the String times of the packet: a String in a field that is a
        # point in time ({PacketFields.time_fields}) is read by {TimeParam}
        # (seconds or ISO-8601) before the op runs; any other value goes on
        # to {PacketFields.check!} and the engine as it is.
        def times(op, packet)
          fields = PacketFields.time_fields(op)
          return packet if fields.empty?

          fields.each_with_object(packet.dup) do |field, out|
            out[field] = TimeParam.seconds(out[field], field) if out[field].is_a?(String)
          end
        end

        def listing(items)
          { items: items, results: items.map { |item| item[:value] }, count: items.size }
        end

        def token(value)
          value.respond_to?(:to_sym) ? value.to_sym : value
        end

        # Without did_you_mean's multi-line suggestions.
        def plain_message(exception)
          message = exception.respond_to?(:original_message) ? exception.original_message : exception.message
          message.to_s
        end

        def ok(request_id, result)
          { protocol: PROTOCOL, schema_version: SCHEMA_VERSION, request_id: request_id, status: :ok, result: result }
        end

        def failed(request_id, kind, message)
          [error(request_id, message), Failure.new(kind, nil)]
        end

        def error(request_id, message)
          { protocol: PROTOCOL, schema_version: SCHEMA_VERSION, request_id: request_id, status: :error, error: message }
        end
      end
    end
  end
end
