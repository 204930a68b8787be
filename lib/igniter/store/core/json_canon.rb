# frozen_string_literal: true

require "json"
require "digest"
require "securerandom"
require_relative "errors"
require_relative "fact_decode"
require_relative "uuid_pool"

module Igniter
  module Store
    # The pure-Ruby data rules shared by both paths (the Rust core mirrors them
    # byte for byte; see doc/format.md and doc/facts.md):
    #
    # * {normalize}: the deep-frozen, key-symbolized copy a Fact stores;
    # * {canonical_json} / {value_hash}: what `value_hash` digests;
    # * {fact_body} / {decode_fact_body}: the WAL/snapshot record of a fact;
    # * {build_fact} / {fact_attributes}: `Fact.build` of the pure Fact, and
    #   the members of `Fact.from_h`, so either Fact class can be filled from them.
    #
    # JSON text is produced by `JSON.generate` (C) from a transformed structure
    # that holds only Hashes with String keys, Arrays, Strings, Integers,
    # Floats, true/false/nil: that gives 0.5.2's exact bytes and never calls a
    # `to_json` that an application may have redefined.
    module JsonCanon
      # Deepest container nesting a value may have (outermost container = 1).
      MAX_NESTING = 100

      # Fact members, in `to_h` / WAL order.
      FIELDS = %i[id store key value value_hash causation transaction_time
                  valid_time schema_version producer derivation].freeze

      # {FIELDS} as the body's member names.
      FIELD_NAMES = FIELDS.map(&:to_s).freeze

      # Members a body with `symbols` leaves out when they are null
      # (doc/format.md "Symbol extension").
      OMITTED_WHEN_NULL = %w[causation valid_time producer derivation].freeze

      # Members that hold arbitrary JSON-like data.
      DATA_FIELDS = %i[value producer derivation].freeze

      # Message of the error raised for a String that is not valid UTF-8.
      INVALID_UTF8 = "source sequence is illegal/malformed utf-8"

      GENERATE_OPTIONS = { max_nesting: false }.freeze
      private_constant :GENERATE_OPTIONS

      # The members {fact_body} reads, for {unstamped_body}.
      UNSTAMPED = Struct.new(*FIELDS)
      private_constant :UNSTAMPED

      class << self
        # Deep copy with the normalization `Fact.build` applies to value,
        # producer and derivation (doc/facts.md "Normalization"): Hash keys become Symbols
        # (Strings via `to_sym`, others via `to_s.to_sym`) at every depth,
        # insertion order kept; containers are new and frozen; unfrozen
        # scalars are replaced by frozen dups, so the caller's objects are
        # never frozen or mutated.
        #
        # @param obj [Object]
        # @return [Object] deep-frozen copy
        # @raise [NonFiniteNumberError] NaN or ±Infinity anywhere
        # @raise [InvalidEncodingError] a String (or key) that is not UTF-8-able
        # @raise [JSON::NestingError] containers nested deeper than {MAX_NESTING}
        # @raise [UnrepresentableValueError] a Class, Module or address-carrying object
        def normalize(obj)
          deep_normalize(obj, 1)
        end

        # Canonical JSON of a normalized value (doc/facts.md "Canonical JSON"): keys as
        # Strings, sorted bytewise at every depth (last wins on a collision);
        # Symbols and other objects as their name / `to_s`; no whitespace.
        #
        # @param value [Object] usually the output of {normalize}
        # @return [String] UTF-8 JSON text
        def canonical_json(value)
          generate(canonical(value))
        end

        # @param value [Object] usually the output of {normalize}
        # @return [String] lowercase hex SHA-256 of {canonical_json} (UTF-8,
        #   like every String a fact holds)
        def value_hash(value)
          Digest::SHA256.hexdigest(canonical_json(value)).force_encoding(Encoding::UTF_8)
        end

        # @return [String] a fresh UUID v4 id, frozen UTF-8 (SecureRandom's is
        #   US-ASCII; a fact read back from JSON holds UTF-8)
        def new_id
          UuidPool.next_uuid.freeze
        end

        # The WAL / snapshot body of a fact (doc/format.md): its 11 members in
        # order, data members in insertion order, plus a trailing `symbols`
        # member listing where Symbol values stood (absent when there are none,
        # so such bodies are byte-identical to 0.5.2's). A body with `symbols`
        # leaves out `causation`, `valid_time`, `producer` and `derivation`
        # when they are nil.
        #
        # @param fact [#id, #store, #key, ...] any Fact
        # @return [String] UTF-8 JSON text
        def fact_body(fact)
          built = @built
          if built&.first.equal?(fact)
            # Fact.build just walked this value: reuse its plain form.
            value = built[1]
            symbols = built[2]
          else
            symbols = []
            value = plain_field(fact.value, "value", [], symbols)
          end
          producer = fact.producer
          derivation = fact.derivation
          unless producer.nil? && derivation.nil?
            symbols = symbols.dup if symbols.frozen?
            path = []
            producer = plain_field(producer, "producer", path, symbols)
            derivation = plain_field(derivation, "derivation", path, symbols)
          end
          doc = {
            "id" => plain_string(fact.id),
            "store" => plain_string(fact.store),
            "key" => plain_string(fact.key),
            "value" => value,
            "value_hash" => plain_string(fact.value_hash),
            "causation" => plain_string(fact.causation),
            "transaction_time" => fact.transaction_time,
            "valid_time" => fact.valid_time,
            "schema_version" => fact.schema_version,
            "producer" => producer,
            "derivation" => derivation
          }
          unless symbols.empty?
            # Such a body is not 0.5.2's key list anyway: it leaves out the
            # optional members that hold null (doc/format.md "Symbol extension").
            OMITTED_WHEN_NULL.each { |name| doc.delete(name) if doc[name].nil? }
            doc["symbols"] = symbols
          end
          generate(doc)
        end

        # A fact's {fact_body} as a String-keyed Hash with all 11 members in
        # order (`symbols` last when present), nulls included: a body with
        # `symbols` leaves its null members out on disk, a document keeps
        # 0.5.2's key list (doc/format.md "Symbol extension").
        #
        # @param fact [#id, #store, #key, ...] any Fact
        # @return [Hash{String=>Object}] JSON-safe data
        def fact_document(fact)
          doc = JSON.parse(fact_body(fact))
          return doc unless doc.key?("symbols")

          full = FIELD_NAMES.to_h { |name| [name, doc[name]] }
          full["symbols"] = doc["symbols"]
          full
        end

        # The body the PostgreSQL backend stores for +fact+ (doc/postgres.md,
        # "Tables"): its {fact_body} under +id+, with causation null and
        # transaction_time 0.0, which the write transaction settles in columns
        # of their own. The Rust `Fact#_unstamped_body` writes the same bytes.
        #
        # @param fact [#to_h] any Fact
        # @param id [String]
        # @return [String] UTF-8 JSON text
        def unstamped_body(fact, id)
          view = UNSTAMPED.new(*fact.to_h.values_at(*FIELDS))
          view.id = id
          view.causation = nil
          view.transaction_time = 0.0
          fact_body(view)
        end

        # Decodes a WAL / snapshot fact body under the rules of doc/format.md
        # (see {FactDecode}).
        #
        # @param bytes [String] the frame body (any encoding; bytes are UTF-8)
        # @return [Hash, nil] the 11 fact members, or nil when the body breaks a rule
        def decode_fact_body(bytes)
          FactDecode.decode(bytes)
        end

        # @see FactDecode.parse_object
        def parse_object(bytes)
          FactDecode.parse_object(bytes)
        end

        # `Fact.build` of the pure Fact (doc/facts.md "Building"): every
        # member checked and converted in the native path's order, so an
        # input with two problems raises the same error on both paths, and
        # the fact assembled from them without a members Hash. The plain
        # structure and Symbol paths the walk of its value found are kept for
        # the {fact_body} of this fact (the engine writes it right after
        # building it), so the value is not walked again; one fact is kept, the
        # latest built. Allocates the fact, its stored members and the walk's
        # structures, and no container of its own beyond the one Array it
        # keeps (doc/performance.md, "Pure path, third round").
        #
        # @api private
        # @param fact_class [Class] the pure Fact (it has the private `assemble`)
        # @return [Fact] frozen
        # @raise [NonFiniteNumberError, InvalidEncodingError, JSON::NestingError]
        # @param fresh_key [Boolean] +key+ is a {new_id} (a history append's
        #   key): already frozen valid UTF-8 text, and never seen before, so
        #   interning it ({fact_key}) would share it with nothing
        # rubocop:disable Metrics/ParameterLists, Style/OptionalBooleanParameter -- positional, as Fact.build passes them
        def build_fact(fact_class, store, key, value, causation, valid_time, term, schema_version, producer, derivation,
                       fresh_key = false)
          store = store_symbol(store)
          key = fact_key(key) unless fresh_key
          symbols = []
          # [fact, plain value, Symbol paths, out-of-order Hashes, the last
          # of them, keys collided]: slots 0-2 are what fact_body looks for,
          # 3-4 what canonical_plain reads. The walk fills slots 1-5; the fact
          # goes in slot 0.
          built = [nil, nil, symbols, 0, nil, false]
          value = normalize_into(value, built, symbols)
          hash = built_hash(built)
          valid_time = valid_time(valid_time, term)
          schema_version = schema_version(schema_version)
          causation = causation.nil? ? nil : fact_string(causation)
          fact = fact_class.__send__(:assemble, new_id, store, key, value, hash, causation,
                                     Process.clock_gettime(Process::CLOCK_REALTIME), valid_time, schema_version,
                                     producer ? normalize(producer) : nil, derivation ? normalize(derivation) : nil)
          built[0] = fact
          symbols.freeze
          @built = built.freeze
          fact
        end
        # rubocop:enable Metrics/ParameterLists, Style/OptionalBooleanParameter

        # Members of a restored fact: the whole of `Fact.from_h` except
        # allocation. Stored fields are kept verbatim
        # (as frozen UTF-8 text) and nothing is rehashed; data members are
        # normalized and checked like {build_fact}, times must be finite
        # (a fact that could not be written is refused here, not later), and a
        # `symbols:` member (doc/format.md) turns the Strings at its paths back
        # into Symbols.
        #
        # @param hash [Hash] members with String or Symbol keys; legacy
        #   `timestamp:` / `term:` accepted
        # @return [Hash{Symbol=>Object}] the 11 members in {FIELDS} order
        # @raise [KeyError] when `store` is missing or nil
        # @raise [NonFiniteNumberError, InvalidEncodingError, JSON::NestingError,
        #   UnrepresentableValueError]
        def fact_attributes(hash)
          h = hash.transform_keys { |k| k.is_a?(Symbol) ? k : k.to_s.to_sym }
          store = h[:store]
          raise KeyError.new("key not found: :store", receiver: hash, key: :store) if store.nil?

          # Checked in the native path's order (see build_fact).
          transaction_time = finite!((h[:transaction_time] || h[:timestamp])&.to_f || 0.0)
          valid_time = (time = h[:valid_time] || h[:term]) ? finite!(time.to_f) : nil
          trie = FactDecode.symbol_trie(h[:symbols])
          id = h[:id].nil? ? new_id : fact_string(h[:id])
          {
            id: id, store: store_symbol(store), key: fact_key(h[:key]),
            value: restore_data(h[:value], trie, "value"),
            value_hash: optional_text(h[:value_hash]),
            causation: optional_text(h[:causation]),
            transaction_time: transaction_time, valid_time: valid_time,
            schema_version: schema_version(h[:schema_version]),
            producer: h[:producer] ? restore_data(h[:producer], trie, "producer") : nil,
            derivation: h[:derivation] ? restore_data(h[:derivation], trie, "derivation") : nil
          }
        end

        # True when `members` are already the 11 members in their stored form
        # (what {FactDecode} hands over), so converting them would change
        # nothing: `Fact.new` then takes them as they are.
        #
        # @param members [Hash{Symbol=>Object}]
        def stored_form?(members)
          members.keys == FIELDS &&
            text?(members[:id]) && members[:store].is_a?(Symbol) && utf8_name?(members[:store]) &&
            text?(members[:key]) && optional_text?(members[:value_hash]) && optional_text?(members[:causation]) &&
            finite_float?(members[:transaction_time]) &&
            (members[:valid_time].nil? || finite_float?(members[:valid_time])) &&
            members[:schema_version].is_a?(Integer) && normalized?(members[:value], 1) &&
            DATA_FIELDS.drop(1).all? { |name| members[name].nil? || (members[name] && normalized?(members[name], 1)) }
        end

        # @param version [#to_i, nil]
        # @return [Integer] `version.to_i`, any size; nil (not given) is 1
        def schema_version(version)
          version.nil? ? 1 : version.to_i
        end

        # @param valid_time [#to_f, nil]
        # @param term [#to_f, nil] legacy alias, used when valid_time is nil
        # @return [Float, nil] `valid_time.to_f`, else `term.to_f` if truthy, else nil
        # @raise [NonFiniteNumberError] when the result is NaN or ±Infinity
        def valid_time(valid_time, term = nil)
          source = valid_time.nil? ? term : valid_time
          source ? finite!(source.to_f) : nil
        end

        # The stored form of a fact key: `key.to_s` as frozen (interned) UTF-8.
        #
        # @raise [InvalidEncodingError]
        def fact_key(key)
          -check_string(key_string(key))
        end

        # `key.to_s`, transcoded to UTF-8 when it is in another encoding, so
        # that keys compare equal whatever encoding the caller used. Not
        # validated: also meant for lookups.
        #
        # @return [String]
        def key_string(key)
          str = key.is_a?(String) ? key : key.to_s
          str.encoding == Encoding::UTF_8 ? str : utf8(str)
        end

        # The stored form of a store name: a Symbol of UTF-8 text (a Symbol
        # in another encoding becomes the Symbol of its transcoding).
        #
        # @param store [String, Symbol, #to_sym]
        # @return [Symbol]
        # @raise [InvalidEncodingError] a name with no UTF-8 form
        def store_symbol(store)
          if store.is_a?(Symbol)
            # The engine's kind, in the fewest calls: an ASCII name is UTF-8 text.
            name = store.name
            return name.ascii_only? || name.encoding == Encoding::UTF_8 ? store : utf8(name).to_sym
          end
          return check_string(store).to_sym if store.is_a?(String)

          sym = store.to_sym
          name = sym.name
          name.encoding == Encoding::UTF_8 || name.ascii_only? ? sym : utf8(name).to_sym
        end

        # Where the Symbol values of a data member stand, as a fact body's
        # `symbols` member lists them (doc/format.md): the op protocol's `read`
        # envelopes send these with a value, so a client gets its Symbols back.
        # @param obj [Object] a stored value
        # @param field [String] the member the paths start with
        # @return [Array<Array>] e.g. `[["value", "status"]]`; [] without Symbols
        def symbol_paths(obj, field = "value")
          symbols = []
          plain_field(obj, field, [], symbols)
          symbols
        end

        private

        # `JSON.generate(obj, GENERATE_OPTIONS)` with a generator state made
        # once per thread: building and configuring one per call costs as much
        # as generating a fact's value.
        def generate(obj)
          generator_tools[0].generate(obj)
        end

        # [JSON::State, Digest::SHA256] of the current thread (fiber-local):
        # neither is shared, and neither runs code of the caller's while in use.
        def generator_tools
          Thread.current[:igniter_ledger_json_tools] ||= [JSON::State.new(GENERATE_OPTIONS), Digest::SHA256.new].freeze
        end

        def deep_normalize(obj, depth)
          case obj
          when Hash
            check_depth(depth)
            out = {}
            obj.each { |k, v| out[normalize_key(k)] = deep_normalize(v, depth + 1) }
            out.freeze
          when Array
            check_depth(depth)
            obj.map { |v| deep_normalize(v, depth + 1) }.freeze
          when String
            check_string(obj)
            obj.frozen? ? obj : obj.dup.freeze
          when Float then finite!(obj)
          when Symbol
            check_string(obj.name) # its JSON form must exist (a binary name has none)
            obj
          when Integer, true, false, nil then obj
          when Module
            # A Class or Module cannot be frozen or copied into a fact (a dup
            # is a new anonymous class) and would come back as a String.
            raise UnrepresentableValueError, "#{obj.class} value has no JSON form: store its name instead"
          else
            # Kept as the object itself (its JSON form is `to_s`), so that
            # to_s must be encodable and stable too.
            stable_text(obj)
            obj.frozen? ? obj : obj.dup.freeze
          end
        end

        # {normalize} of a fact's value, and its {plain} form (with the Symbol
        # paths, into +symbols+) stored in `holder[1]`, in one walk. Keys that
        # collide as text (see {plain}) need the two walks' rules: that rare
        # case takes them.
        # @return [Object] the normalized value
        def normalize_into(value, holder, symbols)
          normalized = walk(value, WALK_KINDS[value.class], 1, holder, ["value"])
          unless holder[5]
            holder[1] = normalized if holder[1].nil? # the value is its own plain form
            return normalized
          end

          normalized = normalize(value)
          symbols.clear
          holder[1] = plain_field(normalized, "value", [], symbols)
          holder[3] = nil # canonical_plain: sort the plain form in full
          normalized
        end

        # The canonical structure of the plain form a walk left in `built[1]`
        # (see {sorted_plain}), from what the walk saw: no Hash out of key
        # order (`built[3]` 0) means the plain form is canonical; one Hash out
        # of order, the outermost (`built[4]`), whose members are all
        # canonical, needs its keys sorted and nothing else, which `slice`
        # does in one C call. Any other case sorts the plain form in full.
        def canonical_plain(built)
          plain = built[1]
          case built[3]
          when 0 then plain
          when 1 then built[4].equal?(plain) ? plain.slice(*plain.keys.sort!) : sorted_plain(plain)
          else sorted_plain(plain)
          end
        end

        # What {walk} does with a node, by the node's class: 0 String,
        # 1 Symbol, 2 Hash, 3 Array, 4 Float, 5 its own plain form with
        # nothing to check (Integer, true, false, nil), which a container's
        # walk takes without a call. Any other class (a subclass of these
        # too) is not in the table and is sorted out by `===`, as
        # `case` would. One Hash lookup on the class costs less than
        # `case`'s `===` calls, one per kind tested.
        WALK_KINDS = { String => 0, Symbol => 1, Hash => 2, Array => 3, Float => 4, Integer => 5,
                       NilClass => 5, TrueClass => 5, FalseClass => 5 }.compare_by_identity.freeze

        # SHA-256 hex of the canonical JSON of the value a walk left in
        # +built+ (see {canonical_plain}). The digest object is kept per
        # thread (fiber) beside the generator state: `Digest::SHA256.hexdigest`
        # makes one per call.
        def built_hash(built)
          tools = generator_tools
          tools[1].hexdigest(tools[0].generate(canonical_plain(built))).force_encoding(Encoding::UTF_8).freeze
        end

        # One node of {normalize_into}: returns the normalized node and
        # leaves its plain form in `scratch[1]`, or nil there when the plain
        # form is the normalized node itself (read by the parent right after
        # the call). +kind+ is the node's {WALK_KINDS} entry; +path+ holds
        # the names of the node's ancestors in slots 0 to depth - 1, for the
        # Symbol paths (`scratch[2]`). Checks as {deep_normalize}.
        #
        # A container whose members are all their own plain forms (no Symbol
        # values, no text to transcode, Symbol keys named in UTF-8 or ASCII) is
        # its own plain form: the generator writes a Symbol key as its name
        # (`rb_sym2str`, never a method of the application), the very text a
        # plain copy would hold, so no copy is made (doc/performance.md, "Pure
        # path, third round").
        #
        # A Hash whose keys are out of bytewise order while its members' plain
        # forms are canonical counts itself in `scratch[3]` and stands in
        # `scratch[4]` ({canonical_plain} reads them): the order is tested
        # name by name as the walk passes them, so the canonical form needs
        # no second walk to find it out. Keys that collide as text set
        # `scratch[5]` (doc/performance.md, "Pure path, fourth round").
        def walk(obj, kind, depth, scratch, path)
          case kind
          when 0 # String
            if obj.encoding == Encoding::UTF_8
              raise InvalidEncodingError, INVALID_UTF8 unless obj.valid_encoding?

              scratch[1] = nil
              # A frozen copy, not the caller's String, which may change later:
              # the interned one (`-`), so that text repeated fact after fact
              # (tags, statuses, names) is one object, not one kept per fact.
              obj.frozen? ? obj : -obj
            else
              scratch[1] = utf8(obj)
              obj.frozen? ? obj : obj.dup.freeze
            end
          when 1 # Symbol
            scratch[1] = symbol_text(obj)
            scratch[2] << path[0, depth]
            obj
          when 2 # Hash
            raise JSON::NestingError, "nesting of #{depth} is too deep" if depth > MAX_NESTING

            out = {}
            plain = nil
            # The last name while the names are in order so far, false after.
            # "" sorts before any name but itself: a first key "" is taken
            # as out of order, which costs a sort and changes nothing.
            prev = ""
            unordered = scratch[3]
            inner = depth + 1
            obj.each do |k, v|
              key = k.is_a?(Symbol) ? k : normalize_key(k)
              # symbol_text(key), inline: a call per member costs more than its
              # test. An ASCII name is a Symbol's US-ASCII one, JSON text as it is.
              own = key.name
              name = own.ascii_only? ? own : check_string(own)
              prev = (name <=> prev) == 1 && name if prev
              path[depth] = name
              if (of = WALK_KINDS[v.class]) == 5
                normalized = v
                text = nil
              else
                normalized = walk(v, of, inner, scratch, path)
                text = scratch[1]
              end
              if plain.nil? && !(text.nil? && name.equal?(own))
                # The members so far are their own plain forms, under their names.
                plain = {}
                out.each { |done, member| plain[done.name] = member }
              end
              out[key] = normalized
              plain[name] = text.nil? ? normalized : text if plain
            end
            scratch[5] = true unless out.size == obj.size && (plain.nil? || plain.size == obj.size)
            scratch[1] = plain
            # Out of order with canonical members: counted. (A member out of
            # order has been counted already, and makes this one need a full
            # sort whatever its own order.)
            if !prev && scratch[3] == unordered
              scratch[3] = unordered + 1
              scratch[4] = plain || out
            end
            out.freeze
          when 3 # Array
            raise JSON::NestingError, "nesting of #{depth} is too deep" if depth > MAX_NESTING

            out = []
            plain = nil
            inner = depth + 1
            obj.each do |v|
              path[depth] = out.size
              if (of = WALK_KINDS[v.class]) == 5
                normalized = v
                text = nil
              else
                normalized = walk(v, of, inner, scratch, path)
                text = scratch[1]
              end
              plain = out.dup if plain.nil? && !text.nil?
              out << normalized
              plain << (text.nil? ? normalized : text) if plain
            end
            scratch[1] = plain
            out.freeze
          when 4 # Float
            scratch[1] = nil
            finite!(obj)
          when 5 # Integer, true, false, nil
            scratch[1] = nil
            obj
          else walk_other(obj, depth, scratch, path)
          end
        end

        # {walk} of a node whose class is not in {WALK_KINDS}: a subclass of
        # one that is takes its kind's walk, as `case` would send it; any
        # other object is normalized as {deep_normalize} does, its text its
        # plain form.
        def walk_other(obj, depth, scratch, path)
          kind = case obj
                 when String then 0
                 when Symbol then 1
                 when Hash then 2
                 when Array then 3
                 when Float then 4
                 when Integer, true, false, nil then 5
                 end
          return walk(obj, kind, depth, scratch, path) if kind

          normalized = deep_normalize(obj, depth)
          scratch[1] = utf8(normalized.to_s)
          normalized
        end

        # The text of a Symbol as JSON writes it, checked as {normalize_key}
        # does. A US-ASCII name (every ASCII Symbol's) is used as it is: its
        # JSON text is its UTF-8 text, and as a Hash key it equals that.
        def symbol_text(sym)
          name = sym.name
          name.encoding == Encoding::US_ASCII ? name : check_string(name)
        end

        # The canonical structure of a {plain} one: every Hash's keys sorted
        # (they are unique, all Strings or all Symbols, which sort by name);
        # what needs no change is returned as it is.
        def sorted_plain(obj)
          case obj
          when Hash
            in_order = true
            prev = nil
            obj.each_key do |k|
              if prev && prev > k
                in_order = false
                break
              end
              prev = k
            end
            if in_order
              # each_value: Hash#none? would yield (and allocate) a pair per member.
              flat = true
              obj.each_value do |v|
                next unless v.is_a?(Hash) || v.is_a?(Array)

                flat = false
                break
              end
              return obj if flat
            end

            out = {}
            (in_order ? obj.keys : obj.keys.sort!).each do |k|
              v = obj[k]
              # Scalars are kept without a call (most members are scalars).
              out[k] = v.is_a?(Hash) || v.is_a?(Array) ? sorted_plain(v) : v
            end
            out
          when Array
            obj.any? { |v| v.is_a?(Hash) || v.is_a?(Array) } ? obj.map { |v| sorted_plain(v) } : obj
          else obj
          end
        end

        def normalize_key(key)
          case key
          when Symbol
            check_string(key.name)
            key
          when String then check_string(key).to_sym
          else stable_text(key).to_sym
          end
        end

        # Text of an object outside the JSON model, refused when it carries a
        # memory address (`#<Proc:0x000055d…>`): see UnrepresentableValueError.
        def stable_text(obj)
          text = check_string(obj.to_s)
          if text.match?(ADDRESS_TEXT)
            raise UnrepresentableValueError, "#{obj.class} value has no JSON form: its text carries a memory address"
          end

          text
        end

        ADDRESS_TEXT = /0x\h{16}/

        def check_depth(depth)
          raise JSON::NestingError, "nesting of #{depth} is too deep" if depth > MAX_NESTING
        end

        # @return [String] `str` itself if UTF-8, else its UTF-8 transcoding
        # @raise [InvalidEncodingError]
        def check_string(str)
          if str.encoding == Encoding::UTF_8
            raise InvalidEncodingError, INVALID_UTF8 unless str.valid_encoding?

            str
          else
            utf8(str)
          end
        end

        # UTF-8 copy of a String in another encoding. US-ASCII and binary
        # Strings qualify only when they are pure ASCII (binary bytes have no
        # meaning to transcode from).
        def utf8(str)
          enc = str.encoding
          return str if enc == Encoding::UTF_8

          if enc == Encoding::US_ASCII || enc == Encoding::BINARY
            raise InvalidEncodingError, INVALID_UTF8 unless str.ascii_only?

            return str.dup.force_encoding(Encoding::UTF_8)
          end
          str.encode(Encoding::UTF_8)
        rescue EncodingError
          raise InvalidEncodingError, INVALID_UTF8
        end

        def finite!(float)
          return float if float.finite?

          name = if float.nan? then "NaN"
                 elsif float.positive? then "Infinity"
                 else "-Infinity"
                 end
          raise NonFiniteNumberError, "#{name} not allowed in JSON"
        end

        def fact_string(obj)
          frozen(check_string(obj.to_s))
        end

        def optional_text(obj)
          obj.nil? ? nil : fact_string(obj)
        end

        def frozen(obj)
          obj.nil? || obj.frozen? ? obj : obj.dup.freeze
        end

        # --- canonical / plain JSON structures ---------------------------

        def canonical(obj)
          case obj
          when Hash
            named = {}
            obj.each { |k, v| named[plain_key(k)] = v } # last wins on collision
            out = {}
            named.keys.sort!.each { |k| out[k] = canonical(named[k]) }
            out
          when Array then obj.map { |v| canonical(v) }
          when String then utf8(obj)
          when Symbol then utf8(obj.name)
          when Integer, Float, true, false, nil then obj
          else utf8(obj.to_s)
          end
        end

        def plain_key(key)
          utf8(key.is_a?(Symbol) ? key.name : key.to_s)
        end

        def plain_string(obj)
          return obj if obj.nil? || (obj.is_a?(String) && obj.encoding == Encoding::UTF_8)
          return symbol_text(obj) if obj.is_a?(Symbol)

          utf8(obj.to_s)
        end

        def plain_field(obj, field, path, symbols)
          path.push(field)
          plain(obj, path, symbols)
        ensure
          path.pop
        end

        def plain_members(hash, path, symbols)
          out = {}
          hash.each do |k, v|
            name = plain_key(k)
            path.push(name)
            out[name] = plain(v, path, symbols)
            path.pop
          end
          out
        end

        # Insertion-order JSON structure; records the path of every Symbol
        # value in depth-first document order.
        def plain(obj, path, symbols)
          case obj
          when Hash
            mark = symbols.size
            out = plain_members(obj, path, symbols)
            return out if out.size == obj.size

            # Keys collided as text (:"café" in Latin-1 and "café"): only the
            # surviving (last) value of each may leave a Symbol path.
            symbols.slice!(mark..)
            named = {}
            obj.each { |k, v| named[plain_key(k)] = v }
            plain_members(named, path, symbols)
          when Array
            obj.each_with_index.map do |v, i|
              path.push(i)
              plain(v, path, symbols).tap { path.pop }
            end
          when String then utf8(obj)
          when Symbol
            symbols << path.dup
            utf8(obj.name)
          when Integer, Float, true, false, nil then obj
          else utf8(obj.to_s)
          end
        end

        # Data of a restored fact. Data already in normalized form (what the
        # decoder hands over: frozen, Symbol keys, valid text) is kept as it
        # is: checking it allocates nothing, copying it would double the cost
        # of every replayed fact.
        def restore_data(obj, trie, field)
          data = normalized?(obj, 1) ? obj : normalize(obj)
          FactDecode.apply_symbols(data, trie&.[](field))
        end

        # True when {normalize} would return an equal structure: deep-frozen,
        # Symbol keys with UTF-8 names, valid UTF-8 Strings, finite Floats,
        # JSON scalars only, nested at most {MAX_NESTING} deep.
        def normalized?(obj, depth)
          case obj
          when Hash
            depth <= MAX_NESTING && obj.frozen? &&
              obj.all? { |k, v| k.is_a?(Symbol) && utf8_name?(k) && normalized?(v, depth + 1) }
          when Array then depth <= MAX_NESTING && obj.frozen? && obj.all? { |v| normalized?(v, depth + 1) }
          when String then obj.frozen? && obj.encoding == Encoding::UTF_8 && obj.valid_encoding?
          when Float then obj.finite?
          when Symbol then utf8_name?(obj)
          when Integer, true, false, nil then true
          else false
          end
        end

        def text?(obj)
          obj.is_a?(String) && obj.frozen? && obj.encoding == Encoding::UTF_8 && obj.valid_encoding?
        end

        def optional_text?(obj)
          obj.nil? || text?(obj)
        end

        def finite_float?(obj)
          obj.is_a?(Float) && obj.finite?
        end

        def utf8_name?(sym)
          name = sym.name
          (name.encoding == Encoding::UTF_8 || name.encoding == Encoding::US_ASCII) && name.valid_encoding?
        end
      end
    end
  end
end
