# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/mcp_adapter.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/mcp_adapter"` still works.
require "igniter/store/adapters"
