# frozen_string_literal: true

module Igniter
  module Store
    class MCPAdapter
      # Runs read tools against an in-process {Protocol::Interpreter}.
      class EmbeddedTools
        # @param interpreter [Protocol::Interpreter]
        def initialize(interpreter)
          @interpreter = interpreter
        end

        # @param tool [Symbol] one of READ_TOOLS
        # @param args [Hash] Symbol top-level keys
        # @return [Object] the tool result
        # @raise [ArgumentError, KeyError] for missing or invalid arguments
        def call(tool, args)
          i = @interpreter
          case tool
          when :metadata_snapshot then i.metadata_snapshot
          when :descriptor_snapshot then i.descriptor_snapshot
          when :observability_snapshot then i.observability_snapshot
          when :read
            i.read(store: args.fetch(:store), key: args.fetch(:key), **ToolArguments.times(args, :as_of, :valid_at))
          when :query then query(args)
          when :resolve then i.resolve(args.fetch(:relation).to_sym, from: args.fetch(:from), as_of: args[:as_of])
          when :causation_chain
            chain = i.causation_chain(store: args.fetch(:store), key: args.fetch(:key))
            { chain: chain, count: chain.size }
          when :lineage then i.lineage(store: args.fetch(:store), key: args.fetch(:key))
          when :fact_ref
            ref = i.fact_ref(args.fetch(:fact_id))
            { found: !ref.nil?, ref: ref }
          when :replay then replay(args)
          when :sync_profile then i.sync_hub_profile(as_of: args[:as_of], cursor: args[:cursor], stores: args[:stores])
          when :storage_stats then i.storage_stats(store: args[:store])
          when :segment_manifest then i.segment_manifest(store: args[:store])
          when :compaction_activity then i.compaction_activity(**args.slice(:store, :kind, :since, :limit))
          end
        end

        private

        def query(args)
          limit = ToolArguments.query_limit(args)
          items = @interpreter.query(store: args.fetch(:store), where: args[:where] || {}, order: args[:order],
                                     limit: limit, as_of: args[:as_of])
          items.map { |item| item[:value] }
        end

        def replay(args)
          limit = ToolArguments.replay_limit(args)
          facts = @interpreter.replay(from: args[:from], to: args[:to], filter: ToolArguments.replay_filter(args))
          facts = facts.first(limit) if limit
          { facts: facts, count: facts.size }
        end
      end

      # Argument rules shared by the embedded and remote tool runners.
      module ToolArguments
        module_function

        # @return [Integer]
        # @raise [ArgumentError] "query: requires limit:"
        def query_limit(args)
          raise ArgumentError, "query: requires limit:" if args[:limit].nil?

          args[:limit].to_i
        end

        # @return [Integer, nil]
        # @raise [ArgumentError] without any of limit, store, from
        def replay_limit(args)
          if args[:limit].nil? && args[:store].nil? && args[:from].nil?
            raise ArgumentError, "replay: requires at least one bounding argument (limit:, store:, or from:)"
          end

          limit = args[:limit]&.to_i
          raise ArgumentError, "replay: limit must be >= 0, got #{limit}" if limit&.negative?

          limit
        end

        # @return [Hash, nil] `{store:}` when a store is given, else the `filter` argument
        def replay_filter(args)
          args[:store] ? { store: args[:store] } : args[:filter]
        end

        # The time arguments +fields+ in seconds, read as the HTTP API reads
        # them (seconds or ISO-8601, {Protocol::TimeParam}); absent ones left out.
        # Embedded and remote runs thus take the same times and refuse the same ones.
        # @return [Hash{Symbol=>Numeric}]
        # @raise [ArgumentError] naming the field of a time that is neither
        def times(args, *fields)
          fields.each_with_object({}) do |field, out|
            out[field] = Protocol::TimeParam.seconds(args[field], field) unless args[field].nil?
          end
        end
      end
    end
  end
end
