# frozen_string_literal: true

# Layer 4, engine: IgniterStore over a fact log and a backend, and its
# collaborators in engine/ (read cache, schema graph, scope and partition
# indexes, coercions, derivations, compaction, prune, lineage, census).
require_relative "storage"
require_relative "feed"
require_relative "engine/coerced_fact"
require_relative "engine/read_cache"
require_relative "engine/schema_graph"
require_relative "engine/igniter_store"
require_relative "engine/census"

module Igniter
  module Store
    # 0.5.2's other name of {IgniterStore}.
    LedgerStore = IgniterStore unless const_defined?(:LedgerStore, false)
  end
end
