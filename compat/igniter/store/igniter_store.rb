# frozen_string_literal: true

# Moved to lib/igniter/store/engine/igniter_store.rb
# (loaded with the engine layer);
# kept so that `require "igniter/store/igniter_store"` still works.
require "igniter/store/engine"
