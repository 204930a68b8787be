# frozen_string_literal: true

# Layer 1, core: facts and the rules every other layer builds on. The native
# seam (core/native.rb) loads the Rust extension or the pure-Ruby classes and
# binds the halves of Fact, FactLog and FileBackend; errors, canonical JSON
# and the fact body (json_canon, fact_decode, fact_protocol) and AccessPath.
require "json"
require "digest"
require "digest/sha2"
require "securerandom"
require "set"
require "zlib"
require "monitor"
require "socket"
require "fileutils"
require "time"
require "rbconfig"

require_relative "../ledger/version"
require_relative "core/native"
require_relative "core/errors"
require_relative "core/json_canon"
require_relative "core/access_path"
require_relative "core/cached_points"
