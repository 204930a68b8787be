# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/mcp_adapter/ledger_tools.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/mcp/ledger_tools"` still works.
require "igniter/store/adapters"
