// Stand-in for triton-inference-server/common's include/triton/common/triton_json.h:
// the part of TritonJson::Value that SharedMemoryManager::GetStatus writes
// with (objects in an array, string and unsigned members), plus readers for
// the tests. Like the real header, it returns TRITONJSON_STATUSTYPE, which
// the includer defines (shared_memory_manager.h does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#if !defined(TRITONJSON_STATUSTYPE) || !defined(TRITONJSON_STATUSRETURN) || \
    !defined(TRITONJSON_STATUSSUCCESS)
#error "define TRITONJSON_STATUSTYPE, TRITONJSON_STATUSRETURN and TRITONJSON_STATUSSUCCESS first"
#endif

namespace triton { namespace common {

class TritonJson {
 public:
  enum class ValueType { OBJECT, ARRAY };

  class Value {
   public:
    // A top-level document.
    explicit Value(ValueType type) : type_(type) {}
    // A value to be added to `document` (the real class allocates it there).
    Value(Value& document, ValueType type) : type_(type) { (void)document; }
    Value(Value&&) = default;
    Value& operator=(Value&&) = default;

    TRITONJSON_STATUSTYPE AddString(
        const char* name, const char* value, size_t len)
    {
      if (type_ != ValueType::OBJECT) {
        TRITONJSON_STATUSRETURN(std::string("AddString on a non-object"));
      }
      members_.push_back({name, true, std::string(value, len), 0});
      return TRITONJSON_STATUSSUCCESS;
    }

    TRITONJSON_STATUSTYPE AddUInt(const char* name, uint64_t value)
    {
      if (type_ != ValueType::OBJECT) {
        TRITONJSON_STATUSRETURN(std::string("AddUInt on a non-object"));
      }
      members_.push_back({name, false, std::string(), value});
      return TRITONJSON_STATUSSUCCESS;
    }

    TRITONJSON_STATUSTYPE Append(Value&& value)
    {
      if (type_ != ValueType::ARRAY) {
        TRITONJSON_STATUSRETURN(std::string("Append to a non-array"));
      }
      elements_.push_back(std::move(value));
      return TRITONJSON_STATUSSUCCESS;
    }

    // Readers for the tests.
    size_t ArraySize() const { return elements_.size(); }
    const Value& At(size_t index) const { return elements_.at(index); }
    size_t MemberCount() const { return members_.size(); }
    bool HasString(const std::string& name, std::string* value = nullptr) const
    {
      for (const Member& m : members_) {
        if (m.name == name && m.is_string) {
          if (value != nullptr) *value = m.text;
          return true;
        }
      }
      return false;
    }
    bool HasUInt(const std::string& name, uint64_t* value = nullptr) const
    {
      for (const Member& m : members_) {
        if (m.name == name && !m.is_string) {
          if (value != nullptr) *value = m.number;
          return true;
        }
      }
      return false;
    }

   private:
    struct Member {
      std::string name;
      bool is_string;
      std::string text;
      uint64_t number;
    };
    ValueType type_;
    std::vector<Member> members_;
    std::vector<Value> elements_;
  };
};

}}  // namespace triton::common
