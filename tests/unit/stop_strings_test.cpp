// StopStringFilter on streamed text, against hand-worked cases: a stop string split across
// pushes is met as it completes, a possible start is held back and released once it cannot be
// one, the earliest of several wins, and matched() names it.
#include "runtime/stop_strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace qlm {
namespace {

std::string feed(StopStringFilter& f, const std::vector<std::string>& pieces) {
  std::string out;
  for (const std::string& p : pieces) out += f.push(p);
  return out + f.flush();
}

TEST(StopStringFilter, SplitAcrossPushesIsMetWhenComplete) {
  StopStringFilter f({"</answer>"});
  EXPECT_EQ(f.push("x = 4</ans"), "x = 4");  // "</ans" could start the stop string: held
  EXPECT_FALSE(f.stopped());
  EXPECT_EQ(f.push("wer> and more"), "");
  EXPECT_TRUE(f.stopped());
  EXPECT_EQ(f.matched(), "</answer>");
  EXPECT_EQ(f.push("ignored"), "");
  EXPECT_EQ(f.flush(), "");
}

TEST(StopStringFilter, HeldTextIsReleasedWhenItCannotStartAStop) {
  StopStringFilter f({"STOP"});
  EXPECT_EQ(f.push("ST"), "");
  EXPECT_EQ(f.push("OOP"), "STOOP");
  EXPECT_EQ(feed(f, {" S", "T"}), " ST");  // flushed at the end: no stop string came
  EXPECT_FALSE(f.stopped());
  EXPECT_EQ(f.matched(), "");
}

TEST(StopStringFilter, EarliestStopStringWins) {
  StopStringFilter f({"cd", "bcde", "c"});
  EXPECT_EQ(feed(f, {"abcdef"}), "a");
  EXPECT_EQ(f.matched(), "bcde");
  StopStringFilter g({"\n\n", "."});
  EXPECT_EQ(feed(g, {"One line", ".", "\n\nTwo"}), "One line");
  EXPECT_EQ(g.matched(), ".");
}

}  // namespace
}  // namespace qlm
