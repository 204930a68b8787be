# frozen_string_literal: true

# The `igniter-ledger` command and its subcommands (see cli/main.rb). Each
# subcommand file registers itself; the order here is the order of `--help`.
require_relative "cli/main"
require_relative "cli/serve"
require_relative "cli/mcp"
require_relative "cli/config"
require_relative "cli/verify"
require_relative "cli/salvage"
require_relative "cli/inspect"
require_relative "cli/history"
require_relative "cli/export"
require_relative "cli/import"
require_relative "cli/compact"
require_relative "cli/backup"
