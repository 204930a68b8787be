# frozen_string_literal: true

require "digest"
require "json"
require "tmpdir"
require_relative "transcript"
require_relative "../facts"

module LedgerSpec
  module Differential
    # Runs differential cases (see Generator) on the path this process loaded
    # and writes one transcript line per case. The harness runs it in a native
    # and in a pure child process and compares the lines: identical results,
    # value hashes, WAL bytes, error classes and messages. Fact ids and
    # times that differ between runs are masked by order of appearance.
    class Runner
      include LedgerSpec::Helpers # deeply_frozen?

      FIXED_ID = "00000000-0000-4000-8000-0000000000ff"
      UUID = /\h{8}-\h{4}-\h{4}-\h{4}-\h{12}/
      ADDRESS = /0x\h{16}/
      # Transcript lines above this size are compared by digest
      # (DIFF_LONG_LINE raises it, to read a long difference).
      LONG_LINE = Integer(ENV.fetch("DIFF_LONG_LINE", 4_000))

      # Child-process entry: `ARGV[0]` is a file of Marshal-dumped cases.
      def self.main(argv)
        cases = Marshal.load(File.binread(argv.fetch(0))) # rubocop:disable Security/MarshalLoad
        runner = new
        cases.each { |kase| $stdout.puts(runner.line(kase)) }
      end

      # @return [String] the transcript line of one case
      def line(kase)
        @ids = {}
        text = JSON.generate(guard { run(kase) }, max_nesting: false)
        text = text.gsub(UUID) { |id| @ids[id] ||= "uuid##{@ids.size}" }.gsub(ADDRESS, "0x_")
        text.bytesize > LONG_LINE ? JSON.generate({ "sha256" => Digest::SHA256.hexdigest(text), "head" => text[0, 300] }) : text
      end

      private

      S = Igniter::Store
      T = Transcript

      def guard
        yield
      rescue StandardError, SystemStackError => e
        T.error(e)
      end

      def run(kase)
        kind, *args = kase
        case kind
        when :value then value_case(*args)
        when :fact then fact_case(args.first)
        when :body then T.typed(S::Fact._load(args.first))
        when :wal then wal_case(args.first)
        when :ops then ops_case(args.first)
        else raise ArgumentError, "unknown case kind #{kind.inspect}"
        end
      end

      def value_case(value, producer)
        fact = S::Fact.build(store: :s, key: "k", value: materialize(value), producer: materialize(producer))
        fixed = S::Fact.from_h(fact.to_h.merge(id: FIXED_ID, transaction_time: 1.5))
        { "value" => T.typed(fact.value), "hash" => fact.value_hash, "producer" => T.typed(fact.producer),
          "frozen" => deeply_frozen?(fact.value), "body" => T.typed(fixed._dump(0)),
          "marshal" => guard { T.typed(Marshal.load(Marshal.dump(fixed)).value) } } # rubocop:disable Security/MarshalLoad
      end

      def fact_case(attributes)
        fact = S::Fact.from_h(materialize(attributes))
        body = fact._dump(0)
        { "fact" => T.typed(fact), "body" => T.typed(body), "loaded" => guard { T.typed(S::Fact._load(body)) } }
      end

      def wal_case(list)
        Dir.mktmpdir do |dir|
          path = File.join(dir, "ledger.wal")
          backend = S::FileBackend.new(path)
          written = list.map { |attributes| guard { backend.write_fact(S::Fact.from_h(materialize(attributes))) && true } }
          backend.close
          reopened = S::FileBackend.new(path)
          replayed = reopened.replay.map { |f| T.typed(f) }
          reopened.close
          { "written" => written, "wal" => Digest::SHA256.hexdigest(File.binread(path)), "replayed" => replayed }
        end
      end

      def ops_case(ops)
        Dir.mktmpdir do |dir|
          path = File.join(dir, "ledger.wal")
          store = open_store(path)
          written = []
          results = ops.map do |op|
            guard do
              store = reopen(store, path) if op.first == :reopen
              op.first == :reopen ? "reopened" : operate(store, op, written)
            end
          end
          store = reopen(store, path)
          final = Generator::STORES.map { |st| store.history(store: st).map { |f| masked(f) } }
          store.close
          { "ops" => results, "final" => final }
        end
      end

      def open_store(path)
        store = S::IgniterStore.open(path)
        %i[s t].each do |st|
          store.register_path(S::AccessPath.new(store: st, scope: :open, filters: { status: "open" }))
        end
        store.set_retention(:s, strategy: :ephemeral)
      end

      def reopen(store, path)
        store.close
        open_store(path)
      end

      def operate(store, op, written)
        kind, *args = op
        case kind
        when :write then wrote(written, store.write(store: args[0], key: args[1], value: materialize(args[2]), **args[3]))
        when :append then wrote(written, store.append(history: args[0], event: materialize(args[1])))
        when :read then T.typed(store.read(store: args[0], key: args[1], as_of: time(args[2], written)))
        when :history
          store.history(store: args[0], key: args[1], since: time(args[2], written), as_of: time(args[3], written))
               .map { |f| masked(f) }
        when :query then store.query(store: args[0], scope: :open).map { |f| masked(f) }.sort_by { |f| f["key"].to_s }
        when :fact_by_id
          id = args[0].is_a?(Array) ? written[args[0][1]]&.id : args[0]
          (fact = store.fact_by_id(id)) ? masked(fact) : nil
        when :compact
          store.compact(args[0]).map { |r| r.values_at(:store, :strategy, :dropped_count, :kept_count).map { |v| T.typed(v) } }
        end
      end

      # Records a written fact and waits for the clock to pass its time, so
      # that "as of this fact" selects the same facts on every run.
      def wrote(written, fact)
        written << fact
        nil until Process.clock_gettime(Process::CLOCK_REALTIME) > fact.transaction_time
        masked(fact)
      end

      def time(selector, written)
        selector.is_a?(Array) ? written[selector[1]]&.transaction_time : selector
      end

      # A fact with its run-dependent time shown as "the time of <its id>".
      def masked(fact)
        T.fact(fact).merge("transaction_time" => "tt of #{fact.id}")
      end

      OBJECTS = {
        time: -> { Time.at(1_700_000_000, in: "UTC") }, rational: -> { Rational(1, 3) }, proc: -> { proc {} },
        anon_class: -> { Class.new }, named_class: -> { String }, module: -> { Comparable },
        plain_object: -> { Object.new }, range: -> { (1..3) },
        # Too big to keep spelled out in a regression line.
        hash_of_80_000_keys: -> { (0...80_000).to_h { |i| ["k#{i}", i] }.merge(k0: "last") }
      }.freeze

      # The case's data with `[:__object__, kind]` markers made into objects.
      def materialize(obj)
        case obj
        when Array
          return OBJECTS.fetch(obj[1]).call if obj.size == 2 && obj[0] == :__object__

          obj.map { |v| materialize(v) }
        when Hash then obj.to_h { |k, v| [materialize(k), materialize(v)] }
        else obj
        end
      end
    end
  end
end
