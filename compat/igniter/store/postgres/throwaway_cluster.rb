# frozen_string_literal: true

# Moved to lib/igniter/store/storage/postgres/throwaway_cluster.rb;
# kept so that `require "igniter/store/postgres/throwaway_cluster"` still works.
require "igniter/store/storage/postgres/throwaway_cluster"
