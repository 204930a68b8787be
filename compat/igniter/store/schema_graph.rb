# frozen_string_literal: true

# Moved to lib/igniter/store/engine/schema_graph.rb
# (loaded with the engine layer);
# kept so that `require "igniter/store/schema_graph"` still works.
require "igniter/store/engine"
