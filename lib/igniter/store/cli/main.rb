# frozen_string_literal: true

require "optparse"
require_relative "../../ledger/version"
require_relative "filesystem_failure"

module Igniter
  module Store
    # The `igniter-ledger` command: one executable, one subcommand per job
    # (`serve`, `verify`, `salvage`, …). Each subcommand is a class in
    # `cli/<name>.rb` that registers itself with {CLI.register}; this file
    # only dispatches, so adding a subcommand never touches the others.
    module CLI
      # Exit status of a usage mistake (unknown subcommand, bad flag), as
      # sysexits.h's EX_USAGE: distinct from the statuses subcommands give
      # their own meaning to (`verify` uses 0, 1 and 2).
      EX_USAGE = 64

      # A mistake in how the command was called; printed with the usage text.
      class UsageError < StandardError; end

      @commands = {}

      class << self
        # @return [Hash{String=>Class}] subcommand name => class, in registration order
        attr_reader :commands

        # Makes +klass+ reachable as `igniter-ledger NAME`.
        #
        # @param name [String] the subcommand word
        # @param klass [Class] responds to `.summary` and `#run(argv) -> Integer`,
        #   constructed with `(out:, err:, env:)`
        # @return [Class] klass
        def register(name, klass)
          @commands[name] = klass
        end
      end

      # Dispatches `igniter-ledger SUBCOMMAND [ARGS]` to its class.
      class Main
        # @param out [IO] standard output of the command
        # @param err [IO] standard error of the command
        # @param env [Hash] the environment the subcommands may read
        def initialize(out: $stdout, err: $stderr, env: ENV)
          @out = out
          @err = err
          @env = env
        end

        # @param argv [Array<String>] the command line after the program name
        # @return [Integer] exit status
        def run(argv)
          argv = argv.dup
          word = argv.shift
          case word
          when nil, "-h", "--help", "help" then help(word.nil? ? @err : @out, word.nil? ? EX_USAGE : 0)
          when "-v", "--version" then version
          else dispatch(word, argv)
          end
        end

        private

        def dispatch(word, argv)
          klass = CLI.commands[word]
          unless klass
            @err.puts("igniter-ledger: unknown command #{word.inspect} (known: #{CLI.commands.keys.join(", ")})")
            return EX_USAGE
          end

          klass.new(out: @out, err: @err, env: @env).run(argv)
        end

        def help(io, status)
          io.puts("Usage: igniter-ledger COMMAND [options]   (igniter-ledger COMMAND --help for more)")
          io.puts("")
          width = CLI.commands.keys.map(&:size).max || 0
          CLI.commands.each { |name, klass| io.puts("  #{name.ljust(width)}  #{klass.summary}") }
          io.puts("")
          io.puts("Exit status of every command: 0 done, #{EX_USAGE} a usage mistake, #{FilesystemFailure::EX_IOERR} the file " \
                  "system refused (missing path, permissions, read-only or full disk); COMMAND --help lists the rest")
          status
        end

        def version
          @out.puts("igniter-ledger #{Igniter::Store::VERSION}")
          0
        end
      end
    end
  end
end
