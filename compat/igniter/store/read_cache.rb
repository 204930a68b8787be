# frozen_string_literal: true

# Moved to lib/igniter/store/engine/read_cache.rb
# (loaded with the engine layer);
# kept so that `require "igniter/store/read_cache"` still works.
require "igniter/store/engine"
