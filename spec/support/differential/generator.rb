# frozen_string_literal: true

module LedgerSpec
  module Differential
    # Deterministic cases for the differential harness: the same seed gives
    # the same cases in every process (Random is seeded per case, so a case
    # can be regenerated alone). A case is plain data that Marshal carries to
    # the child processes; objects Marshal cannot carry (a Proc, an anonymous
    # class) stand as `[:__object__, kind]` markers that the runner makes.
    #
    # Case kinds: [:value, value, producer], [:fact, attributes],
    # [:body, bytes], [:wal, [attributes, ...]], [:ops, [op, ...]].
    class Generator
      STORES = [:s, :t, "u", :"n\0ul", :"\u00e9t\u00e9"].freeze
      KEYS = ["a", "b", :c, 7, "\u00e9", "k\0", "\xFF", "x".encode(Encoding::UTF_16LE)].freeze
      FLOATS = [0.0, -0.0, 1.0, -1.5, 0.1, 1.0 / 3, 1.0e20, 1.0e-5, 1.0e16, 123_456_789.125, Float::MAX,
                Float::MIN, 5.0e-324, -2.5e-300, Float::NAN, Float::INFINITY, -Float::INFINITY].freeze
      INTEGERS = [0, -1, 42, 2**31, 2**53 + 1, 2**63 - 1, -2**63, 2**63, -2**63 - 1, 2**64, 10**40, -(10**30)].freeze

      # @param seed [Integer]
      def initialize(seed)
        @seed = seed
      end

      # @return [Array] the case at `index` of this seed
      def case_at(index)
        @rng = Random.new((@seed * 1_000_003) + index)
        case pick(%i[value value value fact body body wal ops ops])
        when :value then [:value, value(0), @rng.rand < 0.2 ? value(1) : nil]
        when :fact then [:fact, attributes(index)]
        when :body then [:body, body(index)]
        when :wal then [:wal, Array.new(1 + @rng.rand(4)) { |i| attributes((index * 10) + i) }]
        else [:ops, ops]
        end
      end

      # @return [Array<Array>] `count` cases from `first` on
      def cases(count, first: 0)
        (first...(first + count)).map { |i| case_at(i) }
      end

      private

      def pick(list)
        list[@rng.rand(list.size)]
      end

      # Any value a caller might hand to Fact.build, weighted to the odd ones.
      def value(depth)
        return scalar if depth > 4 && @rng.rand < 0.7

        case @rng.rand(14)
        when 0..5 then scalar
        when 6, 7 then Array.new(@rng.rand(5)) { value(depth + 1) }
        when 8, 9, 10 then hash(depth)
        when 11 then deep(@rng.rand(96..103))
        when 12 then wide
        else object
        end
      end

      def hash(depth)
        Array.new(@rng.rand(6)) { [hash_key, value(depth + 1)] }.to_h.tap do |h|
          h[:a] = 1 if h.key?("a") && @rng.rand < 0.5 # a key colliding after normalization
        end
      end

      def hash_key
        case @rng.rand(8)
        when 0..2 then string
        when 3, 4 then symbol
        when 5 then pick(INTEGERS)
        when 6 then pick([nil, true, 1.5])
        else "a"
        end
      end

      def deep(levels)
        levels.times.reduce(pick([1, "x", nil])) { |inner, _| @rng.rand < 0.5 ? [inner] : { k: inner } }
      end

      def wide
        count = pick([100, 1_000, 5_000])
        @rng.rand < 0.5 ? Array.new(count) { |i| i } : (0...count).to_h { |i| [:"k#{i}", i.even? ? i : "v#{i}"] }
      end

      def scalar
        case @rng.rand(10)
        when 0 then pick([nil, true, false])
        when 1, 2 then pick(INTEGERS) + (@rng.rand < 0.3 ? @rng.rand(1000) : 0)
        when 3, 4 then @rng.rand < 0.6 ? pick(FLOATS) : (@rng.rand - 0.5) * (10**@rng.rand(-20..20))
        when 5, 6, 7 then string
        else symbol
        end
      end

      # Strings of every kind: plain, Unicode, NUL and controls, invalid
      # UTF-8, binary, and other encodings (valid or not there).
      def string
        text = pick(["", "plain", "caf\u00e9 \u65e5\u672c \u{1F600}", "nul\0in", "\u0001\t\n\"\\/\u2028", ":colon",
                     "#<Object:0x000055d5c0ffee00>", "a" * 300])
        case @rng.rand(10)
        when 0 then (+"\xFF\xFE ok").force_encoding(Encoding::UTF_8)
        when 1 then text.b
        when 2 then "\xC3\xA9\x80".b
        when 3 then text.encode(Encoding::UTF_16LE)
        when 4 then "caf\xE9".b.force_encoding(Encoding::ISO_8859_1)
        when 5 then "\x82\xA0".b.force_encoding(Encoding::Shift_JIS)
        when 6 then (+"\x81").force_encoding(Encoding::Shift_JIS)
        when 7 then text.encode(Encoding::US_ASCII, undef: :replace)
        else text.dup
        end
      end

      def symbol
        case @rng.rand(6)
        when 0 then :"sym\0nul"
        when 1 then "\xFF".b.to_sym
        when 2 then "caf\xE9".b.force_encoding(Encoding::ISO_8859_1).to_sym
        when 3 then :"\u00e9t\u00e9"
        else pick(%i[open closed a status])
        end
      end

      def object
        pick([[:__object__, :time], [:__object__, :rational], [:__object__, :proc], [:__object__, :anon_class],
              [:__object__, :named_class], [:__object__, :module], [:__object__, :plain_object], [:__object__, :range]])
      end

      # Members for Fact.from_h, with fixed id and times so bodies compare.
      def attributes(index)
        {
          id: format("00000000-0000-4000-8000-%012d", index % 1_000_000_000_000),
          store: pick(STORES), key: pick(KEYS), value: value(1),
          value_hash: @rng.rand < 0.8 ? "ab" * 32 : nil, causation: @rng.rand < 0.5 ? "c-#{index}" : nil,
          transaction_time: pick([1_700_000_000.5, 0.0, -0.0, 12.25, 1_700_000_000.5 + index]),
          valid_time: pick([nil, 3, 1.5, -0.0, false]),
          schema_version: pick([1, 2, nil, 2**64, "3"]),
          producer: pick([nil, false, { system: :spec }, { "n" => [1, :x] }]),
          derivation: pick([nil, { name: :d, source_fact_ids: ["x"] }])
        }.reject { |_, v| v.nil? && @rng.rand < 0.3 }.then { |h| legacy_form(h) }
      end

      # The same members as a wire or legacy reader may hand them over: String
      # keys, legacy names, a `symbols` member.
      def legacy_form(members)
        members = members.transform_keys(&:to_s) if @rng.rand < 0.2
        members = members.merge(symbols: pick([[["value"]], [["value", "a"], ["value", 0]], "x", [[1]]])) if @rng.rand < 0.2
        if @rng.rand < 0.1
          members = members.merge(timestamp: members.delete(:transaction_time), term: members.delete(:valid_time))
        end
        members
      end

      # A fact body (JSON written here, not by the library), often broken by
      # one mutation of a member a decode rule looks at.
      def body(index)
        members = { "id" => format("00000000-0000-4000-8000-%012d", index), "store" => "s", "key" => pick(["k", 5]),
                    "value" => pick([1, "v", [1, { "a" => "b" }], { "s" => "open" }, -0.0]), "value_hash" => nil,
                    "causation" => nil, "transaction_time" => pick([1.5, 0, -0.0]), "valid_time" => pick([nil, 2.5]),
                    "schema_version" => 1, "producer" => pick([nil, { "system" => "x" }]), "derivation" => nil }
        text = JSON.generate(members)
        mutate(text)
      end

      def mutate(text)
        case @rng.rand(8)
        when 0 then text
        when 1 then text[0, @rng.rand(text.size)]
        when 2 then text.sub(/"#{pick(%w[id store key causation transaction_time valid_time schema_version producer])}":/,
                             %("#{pick(%w[timestamp term junk store])}":))
        when 3
          text.sub(/"(store|key|schema_version|transaction_time|producer|id)":[^,]*/) do
            %("#{Regexp.last_match(1)}":#{pick(%w[null false 1.5 [] {} "x" 99999999999999999999 -0.0 1e400])})
          end
        when 4 then text.sub("{", %({"symbols":#{pick(['[["value"]]', '[["value","a"]]', '"x"', "[[1]]"])},))
        when 5 then text.sub(/\}\z/, %(,"value":#{"[" * (n = @rng.rand(98..103))}#{"]" * n}}))
        when 6 then text.b.tap { |b| b[@rng.rand(b.size)] = pick(["\xFF".b, "\\".b, "\u0000".b, "/*".b]) }
        else %( #{text.sub(",", " , ")}\n)
        end
      end

      def ops
        list = Array.new(3 + @rng.rand(10)) { op }
        list.insert(@rng.rand(list.size), [:reopen]) if @rng.rand < 0.5
        list
      end

      def op
        case @rng.rand(12)
        when 0..3
          opts = {}
          opts[:valid_time] = pick([1.5, 0, -0.0, false, Float::NAN]) if @rng.rand < 0.2
          opts[:schema_version] = pick([2, 2**64, nil]) if @rng.rand < 0.2
          opts[:producer] = { system: :spec } if @rng.rand < 0.2
          [:write, pick(STORES), pick(KEYS), @rng.rand < 0.3 ? { status: pick(%w[open closed]) } : value(2), opts]
        when 4 then [:append, pick(STORES), value(2)]
        when 5, 6 then [:read, pick(STORES), pick(KEYS), time_selector]
        when 7, 8 then [:history, pick(STORES), pick([nil, *KEYS]), time_selector, time_selector]
        when 9 then [:query, pick([:s, :t])]
        when 10 then [:fact_by_id, pick([[:fact, @rng.rand(8)], "nope", "\xFF", nil])]
        else [:compact, pick([:s, :t])]
        end
      end

      # A time bound: none, the time of the n-th written fact, or an odd number.
      def time_selector
        pick([nil, nil, [:fact, @rng.rand(8)], [:fact, @rng.rand(8)], 0, Float::INFINITY, -Float::INFINITY, Float::NAN])
      end
    end
  end
end
