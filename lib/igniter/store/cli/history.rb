# frozen_string_literal: true

require_relative "command"
require_relative "time_arg"
require_relative "replayed_store"

module Igniter
  module Store
    module CLI
      # `igniter-ledger history PATH STORE KEY [--as-of T]`: the facts of one
      # key in the order the store serves them (transaction time, id,
      # causation, valid time, value), optionally as the key stood at T.
      class History < Command
        # The usage line of `--help` and of usage mistakes.
        USAGE = "Usage: igniter-ledger history PATH STORE KEY [--as-of T] [--json]   " \
                "(T: seconds since the epoch or ISO-8601, e.g. 2026-11-26T10:30:21Z)"
        # The positional arguments, by name.
        ARGUMENTS = %i[path store key].freeze

        # @return [String]
        def self.summary
          "the facts of one key (time, id, causation, value), optionally --as-of a time"
        end

        private

        def options(parser, opts)
          parser.on("--as-of T", "only facts with a transaction time at or before T") do |v|
            opts[:as_of] = TimeArg.parse(v, "--as-of")
          end
          super
        end

        def execute(opts)
          ledger = read_ledger(opts, opts[:path], "read")
          facts = ReplayedStore.build(ledger.facts).history(store: opts[:store], key: opts[:key], as_of: opts[:as_of])
          if opts[:json]
            Output.json(@out, { store: opts[:store], key: opts[:key], as_of: Output.time_or_nil(opts[:as_of]),
                                facts: facts.map { |f| ReplayedStore.plain(f) } })
          else
            print_history(opts, facts)
          end
          0
        end

        def print_history(opts, facts)
          as_of = opts[:as_of] ? " as of #{Output.time(opts[:as_of])}" : ""
          @out.puts("#{opts[:store]}/#{opts[:key]}: #{Output.count(facts.size, "fact")}#{as_of}")
          facts.each do |f|
            valid = f.valid_time ? "  valid #{Output.time(f.valid_time)}" : ""
            @out.puts("#{Output.time(f.transaction_time)}  id #{f.id}  causation #{f.causation || "-"}#{valid}  " \
                      "#{Output.value(f.value)}")
          end
        end
      end

      register("history", History)
    end
  end
end
