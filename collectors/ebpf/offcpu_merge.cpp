#include "collectors/ebpf/offcpu_merge.hpp"

#include <cmath>

namespace boundwise::ebpf {

namespace {

bool is_d_reason(Reason r) { return r == Reason::disk || r == Reason::paging; }
bool is_off_cpu(Reason r) { return r != Reason::on_cpu && r != Reason::runqueue; }
double clean(double v) { return std::isfinite(v) && v > 0 ? v : 0.0; }

}  // namespace

void merge_offcpu(const MeasuredOffCpu& m, WorkloadWindow& w) {
  w.offcpu_seconds_by_state = {{"interruptible", clean(m.interruptible)},
                               {"uninterruptible", clean(m.uninterruptible)},
                               {"preempted", clean(m.preempted)},
                               {"woken", clean(m.woken)},
                               {"other", clean(m.other)}};
  if (m.gil_exact) w.offcpu_seconds_by_state["gil"] = clean(m.gil);
  const double measured_sleep =
      clean(m.interruptible) + clean(m.uninterruptible) + clean(m.other) + clean(m.gil);
  if (measured_sleep <= 0) return;  // nothing measured: keep procfs's split
  const double d_share = clean(m.uninterruptible) / measured_sleep;
  const double gil_share = m.gil_exact ? clean(m.gil) / measured_sleep : 0;

  // The buckets procfs's sampled seconds are rescaled in: D reasons, the GIL (only
  // when measured), the rest of the sleeps.
  auto measured_gil = [&](Reason r) { return m.gil_exact && r == Reason::gil; };
  double d_procfs = 0;
  double s_procfs = 0;
  double gil_procfs = 0;
  for (Reason r : kAllReasons) {
    if (!is_off_cpu(r)) continue;
    const double v = clean(w.thread_seconds[index_of(r)]);
    (is_d_reason(r) ? d_procfs : measured_gil(r) ? gil_procfs : s_procfs) += v;
  }
  const double off_cpu = d_procfs + s_procfs + gil_procfs;
  if (off_cpu <= 0) return;
  const double d_target = off_cpu * d_share;
  const double gil_target = off_cpu * gil_share;
  const double s_target = off_cpu - d_target - gil_target;

  const double d_scale = d_procfs > 0 ? d_target / d_procfs : 0;
  const double s_scale = s_procfs > 0 ? s_target / s_procfs : 0;
  for (Reason r : kAllReasons) {
    if (!is_off_cpu(r)) continue;
    double& v = w.thread_seconds[index_of(r)];
    if (measured_gil(r)) {
      v = gil_target;
    } else {
      v = clean(v) * (is_d_reason(r) ? d_scale : s_scale);
    }
  }
  if (d_procfs <= 0) w.thread_seconds[index_of(Reason::disk)] += d_target;
  if (s_procfs <= 0) w.thread_seconds[index_of(Reason::other)] += s_target;
  for (auto& d : w.dependencies) d.wait_seconds = clean(d.wait_seconds) * s_scale;
  if (m.gil_exact) w.gil.wait_measured_in_kernel = true;
}

}  // namespace boundwise::ebpf
