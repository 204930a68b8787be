# frozen_string_literal: true

module Igniter
  module Store
    class MCPAdapter
      # Runs read tools through a {RemoteDispatch}: same argument rules as
      # embedded, results normalized to the embedded shapes where JSON
      # allows (String-keyed storage data, a SyncProfile, bounded replay).
      class RemoteTools
        # @param remote [RemoteDispatch]
        def initialize(remote)
          @remote = remote
        end

        # @param tool [Symbol]
        # @param args [Hash]
        # @param request_id [String]
        # @return [Object]
        # @raise [RuntimeError] "remote dispatch :op failed: <error>" for an error envelope
        def call(tool, args, request_id)
          op = TOOL_TO_OP.fetch(tool)
          result = dispatch(op, packet(tool, args), request_id)
          normalize(tool, args, result)
        end

        private

        def packet(tool, args)
          raw =
            case tool
            when :read then { store: args.fetch(:store), key: args.fetch(:key), **ToolArguments.times(args, :as_of, :valid_at) }
            when :query
              { store: args.fetch(:store), where: args[:where] || {}, order: args[:order],
                limit: ToolArguments.query_limit(args), as_of: args[:as_of] }
            when :resolve then { relation: args.fetch(:relation), from: args.fetch(:from), as_of: args[:as_of] }
            when :causation_chain, :lineage then { store: args.fetch(:store), key: args.fetch(:key) }
            when :fact_ref then { fact_id: args.fetch(:fact_id) }
            when :replay
              { from: args[:from], to: args[:to], filter: ToolArguments.replay_filter(args),
                limit: ToolArguments.replay_limit(args) }
            when :sync_profile then args.slice(:as_of, :cursor, :stores)
            when :storage_stats, :segment_manifest then args.slice(:store)
            when :compaction_activity then args.slice(:store, :kind, :since, :limit)
            else {}
            end
          raw.compact
        end

        def dispatch(op, packet, request_id)
          envelope = @remote.dispatch(op: op, packet: packet, request_id: request_id)
          return envelope[:result] if envelope[:status].to_s == "ok"

          raise "remote dispatch #{op.inspect} failed: #{envelope[:error]}"
        end

        def normalize(tool, args, result)
          case tool
          when :read then result && result[:value]
          when :query, :resolve then result && result[:results]
          when :replay
            facts = Array(result && result[:facts])
            facts = facts.first(args[:limit].to_i) unless args[:limit].nil?
            { facts: facts, count: facts.size }
          when :storage_stats, :segment_manifest then stringify_keys(result)
          when :sync_profile then sync_profile(result)
          else result
          end
        end

        # The embedded backend data is String-keyed; JSON parsing made it Symbols.
        def stringify_keys(obj)
          case obj
          when Hash then obj.to_h { |k, v| [k.to_s, stringify_keys(v)] }
          when Array then obj.map { |v| stringify_keys(v) }
          else obj
          end
        end

        def sync_profile(result)
          return result unless result.is_a?(Hash)

          members = Protocol::SyncProfile.members
          Protocol::SyncProfile.new(**result.select { |key, _| members.include?(key) })
        end
      end
    end
  end
end
