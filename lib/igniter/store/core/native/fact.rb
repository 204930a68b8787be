# frozen_string_literal: true

require_relative "../json_canon"
require_relative "../fact_protocol"

module Igniter
  module Store
    # The Rust extension has already defined Fact; the Struct protocol it
    # lacks is added by {FactProtocol}. Bound by core/native.rb on the native
    # path (the pure half is core/pure/fact.rb).
    Fact.include(Enumerable)
    Fact.prepend(FactProtocol)
  end
end
