# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/simple_handlers.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/http/simple_handlers"` still works.
require "igniter/store/adapters"
