// Parsers on real kernel text captured on this machine kind (data/), plus truncated
// and garbage input, which must give an Error and never crash.
#include "collectors/procfs/parse.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace boundwise::procfs {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(BOUNDWISE_TEST_DATA) + "/" + name);
  EXPECT_TRUE(in) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ParseStat, CommWithSpacesAndParenthesis) {
  auto s = parse_stat(fixture("stat_weird_comm.txt"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->pid, 9510);
  EXPECT_EQ(s->comm, "a b) c");
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->ppid, 9506);
  EXPECT_EQ(s->flags, 4194304u);  // PF_RANDOMIZE
  EXPECT_EQ(s->minor_faults, 98u);
  EXPECT_EQ(s->num_threads, 1);
  EXPECT_EQ(s->start_time_ticks, 609502u);
  EXPECT_EQ(s->rss_pages, 424u);
  EXPECT_EQ(s->processor, 1);
}

TEST(ParseStat, RejectsTruncatedAndGarbage) {
  std::string text = fixture("stat_weird_comm.txt");
  EXPECT_FALSE(parse_stat(text.substr(0, 40)));
  EXPECT_FALSE(parse_stat(""));
  EXPECT_FALSE(parse_stat("12 no-parens S 1"));
  EXPECT_FALSE(parse_stat("x (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22"));
  EXPECT_FALSE(parse_stat(")( 1 2"));
}

TEST(ParseSchedstat, RealText) {
  auto s = parse_schedstat(fixture("schedstat.txt"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->run_ns, 5873489u);
  EXPECT_EQ(s->wait_ns, 1638420u);
  EXPECT_EQ(s->timeslices, 2u);
  EXPECT_FALSE(parse_schedstat("1 2"));
  EXPECT_FALSE(parse_schedstat("a b c"));
}

TEST(ParseSyscall, BlockedRunningAndNotInSyscall) {
  auto blocked = parse_syscall(fixture("syscall_nanosleep.txt"));
  ASSERT_TRUE(blocked);
  EXPECT_FALSE(blocked->running);
  EXPECT_EQ(blocked->number, 230);  // clock_nanosleep
  EXPECT_EQ(blocked->args[2], 0x7fff4ffefc70u);
  EXPECT_EQ(blocked->program_counter, 0x7f2eb8f01503u);
  auto running = parse_syscall(fixture("syscall_running.txt"));
  ASSERT_TRUE(running);
  EXPECT_TRUE(running->running);
  auto none = parse_syscall("-1 0x7ffd 0x4011");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->number, -1);
  EXPECT_FALSE(parse_syscall("202 0x1 0x2"));
  EXPECT_FALSE(parse_syscall("202 zz 0 0 0 0 0 0 0"));
  EXPECT_FALSE(parse_syscall(""));
}

TEST(ParseStatus, RealText) {
  auto s = parse_status(fixture("status.txt"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->name, "a b) c");
  EXPECT_EQ(s->tgid, 9510);
  EXPECT_EQ(s->threads, 1);
  EXPECT_GT(s->vm_rss_bytes, 0u);
  EXPECT_EQ(s->vm_rss_bytes % 1024, 0u);
  EXPECT_FALSE(parse_status("Name:\tx\n"));
  EXPECT_FALSE(parse_status(
      "Name: x\nTgid: q\nvoluntary_ctxt_switches: 1\nnonvoluntary_ctxt_switches: 2\n"));
}

TEST(ParseIo, RealText) {
  auto io = parse_io(fixture("io.txt"));
  ASSERT_TRUE(io);
  EXPECT_GT(io->rchar, 0u);
  EXPECT_FALSE(parse_io("rchar: 1\n"));
}

TEST(ParseSmapsRollup, ConvertsKilobytes) {
  auto m = parse_smaps_rollup(fixture("smaps_rollup.txt"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rss, 1804u * 1024);
  EXPECT_EQ(m->pss, 242u * 1024);
  EXPECT_EQ(m->private_dirty, 144u * 1024);
  EXPECT_FALSE(parse_smaps_rollup("Rss: lots\nPss: 1 kB\n"));
  EXPECT_FALSE(parse_smaps_rollup(""));
}

TEST(ParseNetSockets, ListeningAndEstablishedLoopbackV4) {
  auto rows = parse_net_sockets(fixture("net_tcp.txt"), IpAddress::Family::v4);
  ASSERT_TRUE(rows) << rows.error().message;
  const SocketEntry* listener = nullptr;
  const SocketEntry* client = nullptr;
  for (const auto& e : *rows) {
    if (e.inode == 26769) listener = &e;
    if (e.inode == 26770) client = &e;
  }
  ASSERT_NE(listener, nullptr);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(listener->state, kTcpListen);
  EXPECT_EQ(listener->local.to_string(), "127.0.0.1:57253");
  EXPECT_EQ(client->state, kTcpEstablished);
  EXPECT_EQ(client->local.to_string(), "127.0.0.1:51240");
  EXPECT_EQ(client->remote.to_string(), "127.0.0.1:57253");
}

TEST(ParseNetSockets, V6Loopback) {
  auto rows = parse_net_sockets(fixture("net_tcp6.txt"), IpAddress::Family::v6);
  ASSERT_TRUE(rows) << rows.error().message;
  bool listener = false;
  for (const auto& e : *rows) {
    if (e.state == kTcpListen && e.local.to_string() == "[::1]:48813") listener = true;
  }
  EXPECT_TRUE(listener);
}

TEST(ParseNetSockets, RejectsBadRows) {
  std::string header =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
      "inode\n";
  EXPECT_FALSE(parse_net_sockets(header + "   0: 0100007F:GGGG 00000000:0000 0A 0:0 0 0 0 0 0 1\n",
                                 IpAddress::Family::v4));
  EXPECT_FALSE(parse_net_sockets("garbage\n", IpAddress::Family::v4));
  auto empty = parse_net_sockets(header, IpAddress::Family::v4);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(ParseNetUnix, Inodes) {
  auto inodes = parse_net_unix_inodes(fixture("net_unix.txt"));
  ASSERT_TRUE(inodes);
  ASSERT_FALSE(inodes->empty());
  EXPECT_EQ((*inodes)[0], 1055u);
}

TEST(ParseProcStat, CpuLineAndCounts) {
  auto s = parse_proc_stat(fixture("proc_stat.txt"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->cpu_count, 2);
  EXPECT_GT(s->cpu.total(), s->cpu.busy());
  EXPECT_GT(s->context_switches, 0u);
  EXPECT_FALSE(parse_proc_stat("intr 1 2 3\n"));
  EXPECT_FALSE(parse_proc_stat("cpu 1 2 3\n"));
}

TEST(ParsePressure, SomeAndFull) {
  auto cpu = parse_pressure(fixture("pressure_cpu.txt"));
  ASSERT_TRUE(cpu);
  auto memory = parse_pressure(fixture("pressure_memory.txt"));
  ASSERT_TRUE(memory);
  EXPECT_TRUE(memory->has_full);
  auto p = parse_pressure("some avg10=1.50 avg60=0.00 avg300=0.00 total=2500000\n");
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->some_avg10, 1.5);
  EXPECT_DOUBLE_EQ(p->some_total_seconds, 2.5);
  EXPECT_FALSE(p->has_full);
  EXPECT_FALSE(parse_pressure("full avg10=0 total=1\n"));
  EXPECT_FALSE(parse_pressure("some avg10=x total=1\n"));
}

TEST(ParseLoadavg, RealText) {
  auto l = parse_loadavg(fixture("loadavg.txt"));
  ASSERT_TRUE(l);
  EXPECT_GE(l->total, l->running);
  auto x = parse_loadavg("0.52 0.58 0.59 2/419 12345");
  ASSERT_TRUE(x);
  EXPECT_DOUBLE_EQ(x->load1, 0.52);
  EXPECT_EQ(x->running, 2);
  EXPECT_EQ(x->total, 419);
  EXPECT_FALSE(parse_loadavg("0.5 0.5"));
  EXPECT_FALSE(parse_loadavg("a b c 1/2"));
}

TEST(ParseFdLink, Kinds) {
  auto s = parse_fd_link("socket:[26770]");
  EXPECT_EQ(s.kind, FdTarget::Kind::socket);
  EXPECT_EQ(s.inode, 26770u);
  EXPECT_EQ(parse_fd_link("pipe:[12]").kind, FdTarget::Kind::pipe);
  auto anon = parse_fd_link("anon_inode:[eventpoll]");
  EXPECT_EQ(anon.kind, FdTarget::Kind::anon_inode);
  EXPECT_EQ(anon.name, "eventpoll");
  auto file = parse_fd_link("/var/lib/x.db (deleted)");
  EXPECT_EQ(file.kind, FdTarget::Kind::file);
  EXPECT_EQ(parse_fd_link("socket:[abc]").kind, FdTarget::Kind::other);
  EXPECT_EQ(parse_fd_link("").kind, FdTarget::Kind::other);
}

TEST(ParseCmdline, NulSeparated) {
  using namespace std::string_literals;
  auto args = parse_cmdline("python3\0-c\0print(1)\0"s);
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[1], "-c");
  EXPECT_TRUE(parse_cmdline("").empty());
}

// /proc/PID/cgroup lines in the kubelet's layouts (k8s.io/kubernetes
// pkg/kubelet/cm/cgroup_manager_linux.go: systemd slice names escape '-' in the
// UID as '_'; the runtimes name their scopes cri-containerd-, crio-, docker-).
constexpr const char* kUid = "3f1c8a2e-5b7d-4c1e-9a0f-2d6e8b4c7a91";
constexpr const char* kUidSlice = "3f1c8a2e_5b7d_4c1e_9a0f_2d6e8b4c7a91";
constexpr const char* kCid = "8d2c5e1f4a7b9c3e6d0f2a5b8c1e4d7f0a3b6c9e2d5f8a1b4c7e0d3f6a9b2c5e";

std::optional<PodContainer> pod_of(const std::string& path) {
  return parse_pod_cgroup("0::" + path + "\n");
}

TEST(ParsePodCgroup, SystemdDriverEveryRuntimeAndQos) {
  const std::string pod = std::string("-pod") + kUidSlice + ".slice/";
  auto containerd = pod_of("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable" + pod +
                           "cri-containerd-" + kCid + ".scope");
  ASSERT_TRUE(containerd);
  EXPECT_EQ(containerd->pod_uid, kUid);
  EXPECT_EQ(containerd->container_id, kCid);
  EXPECT_EQ(containerd->runtime, "containerd");
  EXPECT_EQ(containerd->qos_class, "Burstable");

  auto docker = pod_of("/kubepods.slice/kubepods" + pod + "docker-" + kCid + ".scope");
  ASSERT_TRUE(docker);
  EXPECT_EQ(docker->runtime, "docker");
  EXPECT_EQ(docker->qos_class, "Guaranteed");
  EXPECT_EQ(docker->container_id, kCid);

  auto crio = pod_of("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort" + pod +
                     "crio-" + kCid + ".scope");
  ASSERT_TRUE(crio);
  EXPECT_EQ(crio->runtime, "cri-o");
  EXPECT_EQ(crio->qos_class, "BestEffort");
  EXPECT_EQ(crio->container_id, kCid);
}

TEST(ParsePodCgroup, CgroupfsDriver) {
  auto burstable = pod_of(std::string("/kubepods/burstable/pod") + kUid + "/" + kCid);
  ASSERT_TRUE(burstable);
  EXPECT_EQ(burstable->pod_uid, kUid);
  EXPECT_EQ(burstable->container_id, kCid);
  EXPECT_EQ(burstable->runtime, "");  // the cgroupfs path does not say
  EXPECT_EQ(burstable->qos_class, "Burstable");
  auto guaranteed = pod_of(std::string("/kubepods/pod") + kUid + "/" + kCid);
  ASSERT_TRUE(guaranteed);
  EXPECT_EQ(guaranteed->qos_class, "Guaranteed");
  auto besteffort = pod_of(std::string("/kubepods/besteffort/pod") + kUid + "/" + kCid);
  ASSERT_TRUE(besteffort);
  EXPECT_EQ(besteffort->qos_class, "BestEffort");
}

TEST(ParsePodCgroup, CgroupRootPrefixAndAnotherCgroupNamespace) {
  // kind and kubelet --cgroup-root: the slices carry the root's name as a prefix.
  auto kind = pod_of(std::string("/kubelet.slice/kubelet-kubepods.slice/"
                                 "kubelet-kubepods-besteffort.slice/"
                                 "kubelet-kubepods-besteffort-pod") +
                     kUidSlice + ".slice/cri-containerd-" + kCid + ".scope");
  ASSERT_TRUE(kind);
  EXPECT_EQ(kind->qos_class, "BestEffort");
  EXPECT_EQ(kind->container_id, kCid);
  // The agent in its own pod (private cgroup namespace, hostPID) sees other pods'
  // paths relative to its own cgroup.
  auto relative = pod_of(std::string("/../../kubepods-burstable-pod") + kUidSlice +
                         ".slice/cri-containerd-" + kCid + ".scope");
  ASSERT_TRUE(relative);
  EXPECT_EQ(relative->pod_uid, kUid);
  EXPECT_EQ(relative->qos_class, "Burstable");
  auto relative_cgroupfs = pod_of(std::string("/../../pod") + kUid + "/" + kCid);
  ASSERT_TRUE(relative_cgroupfs);
  EXPECT_EQ(relative_cgroupfs->container_id, kCid);
  EXPECT_EQ(relative_cgroupfs->qos_class, "");  // hidden behind ".."
}

TEST(ParsePodCgroup, StaticPodUidAndNoContainer) {
  // Static pods (kube-apiserver, etcd) have the hex MD5 of their manifest as UID.
  auto static_pod = pod_of(
      "/kubepods.slice/kubepods-burstable.slice/"
      "kubepods-burstable-pod6d3b6f7e0e8b1c2a9f4d5e6a7b8c9d0e.slice/cri-containerd-" +
      std::string(kCid) + ".scope");
  ASSERT_TRUE(static_pod);
  EXPECT_EQ(static_pod->pod_uid, "6d3b6f7e0e8b1c2a9f4d5e6a7b8c9d0e");
  // In the pod but in none of its containers: the pod slice itself, CRI-O's conmon.
  auto pod_only = pod_of(std::string("/kubepods.slice/kubepods-burstable.slice/"
                                     "kubepods-burstable-pod") +
                         kUidSlice + ".slice");
  ASSERT_TRUE(pod_only);
  EXPECT_EQ(pod_only->container_id, "");
  auto conmon = pod_of(std::string("/kubepods.slice/kubepods-burstable.slice/"
                                   "kubepods-burstable-pod") +
                       kUidSlice + ".slice/crio-conmon-" + kCid + ".scope");
  ASSERT_TRUE(conmon);
  EXPECT_EQ(conmon->container_id, "");
  EXPECT_EQ(conmon->runtime, "");
}

TEST(ParsePodCgroup, CgroupV1AndHybridFiles) {
  // cgroup v1 (or hybrid with an empty v2 line): the pod is on the controller lines.
  std::string v1 = std::string("12:pids:/kubepods/burstable/pod") + kUid + "/" + kCid +
                   "\n"
                   "11:cpu,cpuacct:/kubepods/burstable/pod" +
                   kUid + "/" + kCid +
                   "\n"
                   "1:name=systemd:/kubepods/burstable/pod" +
                   kUid + "/" + kCid + "\n0::/\n";
  auto pod = parse_pod_cgroup(v1);
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->pod_uid, kUid);
  EXPECT_EQ(pod->container_id, kCid);
  // This machine: hybrid, a sandbox's v1 memory cgroup, nothing of Kubernetes.
  EXPECT_FALSE(parse_pod_cgroup(
      "9:name=systemd:/\n4:memory:/process_api/47d1ba47df9d126126863fb4e765407e\n0::/\n"));
}

TEST(ParsePodCgroup, NotAPod) {
  for (const char* text : {
           "0::/system.slice/docker-" /* plain Docker, not Kubernetes */
           "8d2c5e1f4a7b9c3e6d0f2a5b8c1e4d7f0a3b6c9e2d5f8a1b4c7e0d3f6a9b2c5e.scope\n",
           "0::/docker/8d2c5e1f4a7b9c3e6d0f2a5b8c1e4d7f0a3b6c9e2d5f8a1b4c7e0d3f6a9b2c5e\n",
           "0::/machine.slice/"
           "libpod-8d2c5e1f4a7b9c3e6d0f2a5b8c1e4d7f0a3b6c9e2d5f8a1b4c7e0d3f6a9b2c5e"
           ".scope/container\n",
           "0::/system.slice/containerd.service\n",
           "0::/system.slice/kubelet.service\n",
           "0::/user.slice/user-1000.slice/user@1000.service/app.slice/podman-pause.scope\n",
           "0::/user.slice/user-1000.slice/session-3.scope\n",
           "0::/kubepods.slice/kubepods-burstable.slice\n",  // a QoS slice, no pod
           "0::/kubepods/burstable/pod1234/abc\n",           // too short for a UID
           "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podZZZZ.slice\n",
           "0::/notkubepods-pod3f1c8a2e_5b7d_4c1e_9a0f_2d6e8b4c7a91.slice\n",
           "0::/srv/pod3f1c8a2e-5b7d-4c1e-9a0f-2d6e8b4c7a91/x\n",  // not under kubepods
           "0::/\n",
           "",
           "garbage",
           "::::\n:\n0:\n",
           "0::/kubepods/burstable/pod3f1c8a2e-5b7d-4c1e-9a0f-2d6e8b4c7a9\xff\n",
       }) {
    EXPECT_FALSE(parse_pod_cgroup(text)) << text;
  }
}

}  // namespace
}  // namespace boundwise::procfs
