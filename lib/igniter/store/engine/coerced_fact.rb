# frozen_string_literal: true

module Igniter
  module Store
    # What read paths hand out instead of a {Fact} when a coercion registered
    # with {IgniterStore#register_coercion} changed a fact's value. Identity
    # readers delegate to the stored fact; {#value} is the coerced value.
    #
    # Deliberately a plain positional Struct (not a Fact, not frozen), as in
    # 0.5.2: callers distinguish the two with `is_a?(Fact)`.
    #
    # @!attribute [r] fact
    #   @return [Fact] the stored, unmodified fact
    # @!attribute [r] value
    #   @return [Object] the value returned by the coercion block
    CoercedFact = Struct.new(:fact, :value) do
      %i[key id transaction_time valid_time schema_version causation value_hash
         store producer derivation].each do |name|
        define_method(name) { fact.public_send(name) }
      end

      alias_method :timestamp, :transaction_time
      alias_method :term, :valid_time
    end
  end
end
