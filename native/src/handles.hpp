// A table of shared objects addressed by 32-bit handles with generation
// counters: low 20 bits slot index + 1, high 12 bits generation. A stale or
// forged handle finds nothing; it never reaches freed memory. Each slot
// serves 4095 generations and is then retired, so no handle value is ever
// issued twice (2^20 slots x 4095 = ~4.3e9 handles per table and process).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace btx {

template <class T>
class HandleTable {
 public:
  static constexpr uint32_t kIndexBits = 20;
  static constexpr uint32_t kIndexMask = (1u << kIndexBits) - 1;
  static constexpr uint32_t kMaxSlots = kIndexMask;  // index+1 must fit
  static constexpr uint32_t kMaxGen = (1u << (32 - kIndexBits)) - 1;

  // Returns 0 when the table is full.
  uint32_t insert(std::shared_ptr<T> obj) {
    std::lock_guard<std::mutex> lock(mu_);
    uint32_t idx;
    if (!free_.empty()) {
      idx = free_.back();
      free_.pop_back();
    } else {
      if (slots_.size() >= kMaxSlots) return 0;
      idx = static_cast<uint32_t>(slots_.size());
      slots_.push_back(Slot{});
    }
    Slot& s = slots_[idx];
    s.obj = std::move(obj);
    version_.fetch_add(1, std::memory_order_release);
    return (s.gen << kIndexBits) | (idx + 1);
  }

  std::shared_ptr<T> get(uint32_t h) const {
    std::lock_guard<std::mutex> lock(mu_);
    Slot const* s = find(h);
    return s ? s->obj : nullptr;
  }

  // True while `h` names a live object (no copy of it is made).
  bool alive(uint32_t h) const {
    std::lock_guard<std::mutex> lock(mu_);
    return find(h) != nullptr;
  }

  // Bumped by every insert and release: equal versions mean no handle was
  // issued or invalidated in between.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  // Removes and returns the object; later lookups of `h` find nothing.
  std::shared_ptr<T> release(uint32_t h) {
    std::lock_guard<std::mutex> lock(mu_);
    Slot* s = const_cast<Slot*>(find(h));
    if (!s) return nullptr;
    std::shared_ptr<T> obj = std::move(s->obj);
    s->obj.reset();
    // A slot whose generations are used up is retired (never reused): a
    // wrapped generation would make a stale handle address a new object.
    // Generation 0 is never issued, so handle 0 stays invalid.
    if (s->gen < kMaxGen) {
      ++s->gen;
      free_.push_back((h & kIndexMask) - 1);
    }
    version_.fetch_add(1, std::memory_order_release);
    return obj;
  }

 private:
  struct Slot {
    uint32_t gen = 1;
    std::shared_ptr<T> obj;
  };
  Slot const* find(uint32_t h) const {
    uint32_t idx = h & kIndexMask;
    if (idx == 0 || idx > slots_.size()) return nullptr;
    Slot const& s = slots_[idx - 1];
    if (!s.obj || s.gen != (h >> kIndexBits)) return nullptr;
    return &s;
  }
  mutable std::mutex mu_;
  std::atomic<uint64_t> version_{0};
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
};

}  // namespace btx
