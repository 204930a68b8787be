# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      module Handlers
        # +kind: :access_path+ — registers a scope path named after the
        # descriptor. +fields+ is required but, as in 0.5.2, not enforced.
        class AccessPathHandler < Base
          # Descriptor kind handled.
          KIND = :access_path
          # Fields the descriptor must have.
          REQUIRED = %i[name store fields].freeze
          # Fields that must be Symbols or Strings.
          SYMBOL_FIELDS = %i[name store].freeze
          # Warning of an access path declared non-unique.
          NON_UNIQUE_WARNING = "unique: false — non-unique access paths are recorded but not enforced by the engine"

          private

          # An identical path already registered (by another interpreter, or
          # restored after a reopen) is not added twice.
          def accept(descriptor)
            path = AccessPath.new(store: descriptor[:store].to_sym, lookup: :primary_key, scope: descriptor[:name].to_sym,
                                  filters: {}, cache_ttl: descriptor[:cache_ttl], consumers: [])
            @store.register_path(path) unless @store.schema_graph.paths_for(path.store).include?(path)
            unique = descriptor.key?(:unique) ? descriptor[:unique] : true
            accepted(descriptor, warnings: unique ? [] : [NON_UNIQUE_WARNING])
          end
        end
      end
    end
  end
end
