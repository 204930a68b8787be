# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/mcp_adapter/tool_catalog.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/mcp/tool_catalog"` still works.
require "igniter/store/adapters"
