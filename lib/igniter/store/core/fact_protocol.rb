# frozen_string_literal: true

module Igniter
  module Store
    # The part of Struct's protocol the native Fact does not define in Rust,
    # built on its Rust readers (`to_a`, `members`, `to_h`), so that the
    # native Fact answers every Struct method the pure Fact (a Struct) does,
    # with the same results and errors. Prepended to the native Fact only
    # (before its Rust `to_h`, which the block form wraps); the native Fact
    # includes Enumerable itself, behind its Rust `to_a`, as Struct does.
    module FactProtocol
      # Setters exist (as on the pure Struct) and refuse, since facts are frozen.
      JsonCanon::FIELDS.each do |name|
        define_method(:"#{name}=") { |_value| raise_frozen }
      end

      # @yieldparam value [Object] each member value, in order
      # @return [self, Enumerator]
      def each(&block)
        return enum_for(:each) { size } unless block

        to_a.each(&block)
        self
      end

      # @yieldparam name [Symbol]
      # @yieldparam value [Object]
      # @return [self, Enumerator]
      def each_pair(&block)
        return enum_for(:each_pair) { size } unless block

        members.zip(to_a).each(&block)
        self
      end

      # @param member [Symbol, String, Integer] a member name or index
      # @return [Object] the member's value
      # @raise [NameError, IndexError, TypeError] as Struct#[]
      def [](member)
        to_a[member_index(member)]
      end

      # @raise [FrozenError] always (after Struct's member check)
      def []=(member, _value)
        member_index(member)
        raise_frozen
      end

      # @return [Array] the values at the given indexes or ranges (Struct#values_at)
      def values_at(*selectors)
        to_a.values_at(*selectors)
      end

      # @return [Object, nil] Struct#dig
      def dig(member, *rest)
        value = member.is_a?(Integer) ? to_a[member] : (member_position(member) && self[member])
        rest.empty? || value.nil? ? value : value.dig(*rest)
      end

      # @param keys [Array<Symbol>, nil]
      # @return [Hash{Symbol=>Object}] Struct#deconstruct_keys: the members asked
      #   for, up to the first unknown one; all of them for nil
      def deconstruct_keys(keys)
        return to_h if keys.nil?
        raise TypeError, "wrong argument type #{keys.class} (expected Array or nil)" unless keys.is_a?(Array)
        return {} if keys.size > size

        values = to_a
        keys.each_with_object({}) do |key, out|
          index = key.is_a?(Integer) ? key_index(key) : member_position(key)
          return out unless index

          out[key] = values[index]
        end
      end

      # @return [Hash] the members, or the pairs the block returns (Struct#to_h)
      def to_h(&block)
        pairs = super()
        block ? pairs.to_h(&block) : pairs
      end

      # Struct#select / #filter with Struct's arity rule.
      # @return [Array, Enumerator]
      def select(*args, &block)
        raise ArgumentError, "wrong number of arguments (given #{args.size}, expected 0)" unless args.empty?

        block ? to_a.select(&block) : enum_for(:select) { size }
      end
      alias filter select

      private

      def member_position(name)
        return nil unless name.is_a?(Symbol) || name.is_a?(String)

        members.index(name.to_sym)
      end

      def key_index(index)
        index += size if index.negative?
        index.between?(0, size - 1) ? index : nil
      end

      def member_index(member)
        if member.is_a?(Symbol) || member.is_a?(String)
          # Raised with the caller's backtrace, as Struct's C method is: the
          # message then names the member only, with no source excerpt of this file.
          message = "no member '#{member}' in struct"
          member_position(member) || raise(NameError.new(message, member), message, caller(2))
        else
          index = integer_offset(member)
          key_index(index) || raise(IndexError, "offset #{index} too #{index.negative? ? "small" : "large"} " \
                                                "for struct(size:#{size})")
        end
      end

      # Struct's conversion of a non-name member: Integers, Floats truncated,
      # else `to_int`; its TypeError messages.
      def integer_offset(member)
        case member
        when Integer then member
        when Float then member.to_i
        when nil then raise TypeError, "no implicit conversion from nil to integer"
        else
          return member.to_int if member.respond_to?(:to_int)

          shown = member == true || member == false ? member : member.class
          raise TypeError, "no implicit conversion of #{shown} into Integer"
        end
      end

      def raise_frozen
        raise FrozenError.new("can't modify frozen #{self.class}: #{inspect}", receiver: self)
      end
    end
  end
end
