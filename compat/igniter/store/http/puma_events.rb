# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/puma_events.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/http/puma_events"` still works.
require "igniter/store/adapters"
