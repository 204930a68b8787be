# frozen_string_literal: true

require_relative "command"
require_relative "replayed_store"

module Igniter
  module Store
    module CLI
      # `igniter-ledger compact PATH --strategy S`: runs retention on a ledger
      # and prints what it removed. Retention policies live in the
      # application (`set_retention`), not in the ledger, so the policy is
      # given here.
      #
      # - A WAL: `IgniterStore#compact` — per key, `ephemeral` keeps the
      #   latest fact, `rolling_window` also the facts younger than
      #   `--duration`; each compacted store gets a receipt fact in
      #   `__compaction_receipts`, and the drop is made durable (snapshot,
      #   then the WAL emptied).
      # - A segmented directory: the backend's segment purge, which knows no
      #   keys — `ephemeral` keeps only each store's newest sealed segment,
      #   `rolling_window` drops sealed segments whose newest fact is older
      #   than the window; each deleted segment leaves a `.purged.json` receipt.
      class Compact < Command
        # The usage line of `--help` and of usage mistakes.
        USAGE = "Usage: igniter-ledger compact PATH --strategy ephemeral|rolling_window [--duration SECONDS] " \
                "[--store S ...] [--json]"
        # The engine's strategies that remove facts (`permanent` keeps all).
        STRATEGIES = (Engine::Compaction::STRATEGIES - [:permanent]).map(&:to_s).freeze
        # Stores of the engine's own receipts: never compacted unless named.
        INTERNAL_STORE = /\A__/.freeze

        # @return [String]
        def self.summary
          "run retention (compaction, or a segment purge) with a given policy and print the receipts"
        end

        private

        def options(parser, opts)
          opts[:stores] = []
          parser.on("--strategy S", STRATEGIES, "ephemeral or rolling_window") { |v| opts[:strategy] = v.to_sym }
          parser.on("--duration SECONDS", Float, "the window of rolling_window") { |v| opts[:duration] = v }
          parser.on("--store S", "only this store (repeat; default: every store but the __receipt ones)") do |v|
            opts[:stores] << v
          end
          json_flag(parser, opts)
        end

        def arguments(rest, opts)
          super
          raise UsageError, "give --strategy (retention policies are not stored in the ledger)" unless opts[:strategy]
          if opts[:strategy] == :rolling_window && !(opts[:duration] && opts[:duration] >= 0)
            raise UsageError, "rolling_window needs --duration SECONDS (0 or more)"
          end
          raise UsageError, "--duration is for rolling_window only" if opts[:strategy] == :ephemeral && opts[:duration]
        end

        def execute(opts)
          doc = LedgerPath.kind(opts[:path]) == :wal ? compact_wal(opts) : purge_segments(opts)
          opts[:json] ? Output.json(@out, doc) : print_doc(doc)
          0
        end

        def policy(opts)
          { strategy: opts[:strategy], duration: opts[:duration] }
        end

        def compact_wal(opts)
          store = Igniter::Store.open(opts[:path])
          begin
            targets(opts, store.fact_log_all.map { |f| f.store.to_s }.uniq).each do |name|
              store.set_retention(name.to_sym, **policy(opts))
            end
            reports = store.compact
            receipts = reports.filter_map { |r| r[:receipt_id] && store.fact_by_id(r[:receipt_id]) }
            { path: File.absolute_path(opts[:path]), kind: :wal, policy: policy(opts), reports: reports,
              receipts: receipts.map { |f| ReplayedStore.plain(f) }, facts_now: store.fact_count }
          ensure
            store.close
          end
        end

        def purge_segments(opts)
          backend = SegmentedFileBackend.new(opts[:path])
          begin
            targets(opts, backend.stored_store_names).each { |name| backend.set_retention(name, **policy(opts)) }
            receipts = backend.purge!
            { path: File.absolute_path(opts[:path]), kind: :segmented, policy: policy(opts), receipts: receipts,
              segments_now: backend.segment_count }
          ensure
            backend.close
          end
        end

        def targets(opts, stores)
          opts[:stores].empty? ? stores.grep_v(INTERNAL_STORE) : opts[:stores]
        end

        def print_doc(doc)
          policy = doc[:policy]
          text = policy[:strategy] == :rolling_window ? "rolling_window of #{policy[:duration]} s" : "ephemeral"
          @out.puts("#{Output.display(doc[:path])}: retention #{text}")
          doc[:kind] == :wal ? print_compaction(doc) : print_purge(doc)
        end

        def print_compaction(doc)
          @out.puts("nothing to compact (no store named, or none has facts)") if doc[:reports].empty?
          doc[:reports].each do |r|
            line = "  store #{r[:store]}: dropped #{Output.number(r[:dropped_count])}, " \
                   "kept #{Output.number(r[:kept_count])}"
            line += r[:receipt_id] ? ", receipt #{r[:receipt_id]}#{" (durable)" if r[:durable]}" : ", nothing to drop"
            @out.puts(line)
          end
          doc[:receipts].each { |r| @out.puts("receipt #{r["id"]}: #{Output.value(r["value"])}") }
          @out.puts("facts now: #{Output.number(doc[:facts_now])}")
        end

        def print_purge(doc)
          @out.puts("nothing purged") if doc[:receipts].empty?
          doc[:receipts].each do |r|
            facts = Output.count(r["fact_count"].to_i, "fact")
            @out.puts("  purged #{Output.display(r["segment_path"])} (#{facts}): #{r["reason"]}")
          end
          @out.puts("segments now: #{Output.number(doc[:segments_now])}")
        end
      end

      register("compact", Compact)
    end
  end
end
