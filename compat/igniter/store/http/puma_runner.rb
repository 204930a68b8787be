# frozen_string_literal: true

# Moved to lib/igniter/store/adapters/http_adapter/puma_runner.rb
# (loaded with the adapters layer);
# kept so that `require "igniter/store/http/puma_runner"` still works.
require "igniter/store/adapters"
