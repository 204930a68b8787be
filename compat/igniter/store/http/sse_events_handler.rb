# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/sse_events_handler.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/http/sse_events_handler"` still works.
require "igniter/store/adapters"
