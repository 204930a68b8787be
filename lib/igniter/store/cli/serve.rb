# frozen_string_literal: true

require_relative "main"
require_relative "../server/cli"

module Igniter
  module Store
    module CLI
      # `igniter-ledger serve`: the ledger server, the same flags and
      # behaviour as `igniter-ledger-server`.
      class Serve
        # @return [String] one line for the command list
        def self.summary
          "run the ledger server (same as igniter-ledger-server; serve --help lists its flags)"
        end

        # @param out [IO]
        # @param err [IO]
        # @param env [Hash]
        def initialize(out:, err:, env:)
          @server_cli = Server::CLI.new(program: "igniter-ledger serve", out: out, err: err, env: env)
        end

        # @param argv [Array<String>] server flags
        # @return [Integer] exit status
        def run(argv)
          @server_cli.run(argv)
        end
      end

      register("serve", Serve)
    end
  end
end
