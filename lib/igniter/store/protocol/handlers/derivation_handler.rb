# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      module Handlers
        # +kind: :derivation+ — validated and acknowledged only: a derivation
        # needs a rule callable, which a descriptor cannot carry. The
        # warning says so, so clients are not misled by "accepted".
        class DerivationHandler < Base
          # Descriptor kind handled.
          KIND = :derivation
          # Fields the descriptor must have.
          REQUIRED = %i[name inputs output].freeze

          private

          def accept(descriptor)
            name = descriptor[:name].to_sym
            accepted(descriptor, warnings: [
                       "derivation: #{name.inspect} registered as metadata only; " \
                       "attach a rule callable via register_derivation to enable execution"
                     ])
          end
        end
      end
    end
  end
end
