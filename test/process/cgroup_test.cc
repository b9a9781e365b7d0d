// Reading container, pod and unit facts from /proc/<pid>/cgroup of real runtime layouts.
#include "attestors/process/cgroup.h"

#include <gtest/gtest.h>

#include "test/process/process_test_util.h"

namespace twi::process {
namespace {

using testing::ReadFileOrDie;
using testing::TestData;

struct Case {
  const char* file;
  const char* path;  // primary cgroup path
  const char* container_id;
  const char* pod_uid;
  const char* unit;
  const char* user_unit;
};

// The expected reading of every fixture in test/testdata/process/cgroup/.
const Case kCases[] = {
    {"docker_v1_cgroupfs.txt",
     "/docker/a84bba07931db925306a0799dc6ebd718b8c764d1c0acb3dea13519a60a077bb",
     "a84bba07931db925306a0799dc6ebd718b8c764d1c0acb3dea13519a60a077bb", "", "", ""},
    {"docker_v2_systemd.txt",
     "/system.slice/docker-d142880e8427abeec12975fd55911ea2cbd390b656a4d2bad821df997d529975.scope",
     "d142880e8427abeec12975fd55911ea2cbd390b656a4d2bad821df997d529975", "", "", ""},
    {"docker_v2_cgroupfs.txt",
     "/docker/dcb6de0703b4ab7ed013e50181d960e9558c1530a493afbb8b64cb580fac27cd",
     "dcb6de0703b4ab7ed013e50181d960e9558c1530a493afbb8b64cb580fac27cd", "", "", ""},
    // Rootless: the user owns that subtree, so only rootless-container-id (see below).
    {"docker_rootless_v2.txt",
     "/user.slice/user-1000.slice/user@1000.service/user.slice/"
     "docker-8995efeba9032050d09c5892503e12b47fa42f93ceaf2ffbf3e0b6e9aba45ee6.scope",
     "", "", "user@1000.service", ""},
    {"docker_systemd_inside_v2.txt",
     "/system.slice/docker-818f26ff6bff254199c973226b722641b0e812e92776e2051ccb9b2baee4458e.scope/"
     "system.slice/nginx.service",
     "818f26ff6bff254199c973226b722641b0e812e92776e2051ccb9b2baee4458e", "", "", ""},
    {"k8s_containerd_v1_cgroupfs.txt",
     "/kubepods/besteffort/pod54c2a992-a5bb-3645-7369-2435359de37f/"
     "ebc57f4590641e1f037860cf29ae36563d8b6da25a43a846eb31e7ea468c6414",
     "ebc57f4590641e1f037860cf29ae36563d8b6da25a43a846eb31e7ea468c6414",
     "54c2a992-a5bb-3645-7369-2435359de37f", "", ""},
    {"k8s_containerd_v2_systemd.txt",
     "/kubepods.slice/kubepods-burstable.slice/"
     "kubepods-burstable-pod11e9577d_7d5a_bfdc_b64f_3f0468e068a2.slice/"
     "cri-containerd-ce9da201e0c0d1a0dc00f0e71a714a16e81c1aad236d31def0b9d2993134b65a.scope",
     "ce9da201e0c0d1a0dc00f0e71a714a16e81c1aad236d31def0b9d2993134b65a",
     "11e9577d-7d5a-bfdc-b64f-3f0468e068a2", "", ""},
    {"k8s_containerd_v1_colon.txt",
     "/kubepods-besteffort-pod9301ffdb_8016_7833_2777_c027aaddbfe2.slice:cri-containerd:"
     "b3adf32b1cc8fa650bdf6593d1b61b4b171b2f3a9f889eeaf77ee09a4496e0ed",
     "b3adf32b1cc8fa650bdf6593d1b61b4b171b2f3a9f889eeaf77ee09a4496e0ed",
     "9301ffdb-8016-7833-2777-c027aaddbfe2", "", ""},
    {"k8s_guaranteed_v2_systemd.txt",
     "/kubepods.slice/kubepods-pod8bd1ee27_518e_4bd6_e1e4_65a7829ebc32.slice/"
     "cri-containerd-7afceaa86dc3f3464849a845d1f7c3a0579f09222a2bed27a584d21b54fa8973.scope",
     "7afceaa86dc3f3464849a845d1f7c3a0579f09222a2bed27a584d21b54fa8973",
     "8bd1ee27-518e-4bd6-e1e4-65a7829ebc32", "", ""},
    {"k8s_static_pod_v2_cgroupfs.txt",
     "/kubepods/burstable/podbd723e1f94f401f062407bd8ecef4e67/"
     "381f412a0a4f9fa423350b233931da53f50a0be52d057e0bd04ab3005440698c",
     "381f412a0a4f9fa423350b233931da53f50a0be52d057e0bd04ab3005440698c",
     "bd723e1f94f401f062407bd8ecef4e67", "", ""},
    {"crio_v2_systemd.txt",
     "/kubepods.slice/kubepods-besteffort.slice/"
     "kubepods-besteffort-pod58b6736c_838a_cdc4_bbe9_2537f2f26ff2.slice/"
     "crio-83998e1705bb7a7af3d2e2425ba9682170905f4ec5a399fc47f5edbada514e28.scope",
     "83998e1705bb7a7af3d2e2425ba9682170905f4ec5a399fc47f5edbada514e28",
     "58b6736c-838a-cdc4-bbe9-2537f2f26ff2", "", ""},
    {"crio_hybrid_v1.txt",
     "/kubepods.slice/kubepods-besteffort.slice/"
     "kubepods-besteffort-pod9c1026be_55ac_9641_31b5_250f067b74c6.slice/"
     "crio-7ba054769ba41cbb44f0753903870712d5f63adfa395d6cff31aeea03bdba261.scope",
     "7ba054769ba41cbb44f0753903870712d5f63adfa395d6cff31aeea03bdba261",
     "9c1026be-55ac-9641-31b5-250f067b74c6", "", ""},
    {"crio_conmon_v2.txt",
     "/kubepods.slice/kubepods-besteffort.slice/"
     "kubepods-besteffort-pod58b6736c_838a_cdc4_bbe9_2537f2f26ff2.slice/"
     "crio-conmon-83998e1705bb7a7af3d2e2425ba9682170905f4ec5a399fc47f5edbada514e28.scope",
     "", "", "", ""},
    {"kind_nested_v1.txt",
     "/docker/d697312bba82af983eadec108b08c3ce052e96819b8ac3e6dfeb63cc17fd04d5/kubepods/"
     "besteffort/pod5bd99413-1876-04e8-ef1b-12a80bf88430/"
     "014995756e61d6b91cda411dfd72f1a3447c745c48c0b90a16be3388e7f14697",
     // Seen from the host: the kind node container; what it runs inside is its own naming.
     "d697312bba82af983eadec108b08c3ce052e96819b8ac3e6dfeb63cc17fd04d5", "", "", ""},
    {"podman_v2_rootful.txt",
     "/machine.slice/libpod-f0603577aa6c55e0d19d3572186e5761b1524bf0b0947c5eba021711473613ef.scope/"
     "container",
     "f0603577aa6c55e0d19d3572186e5761b1524bf0b0947c5eba021711473613ef", "", "", ""},
    {"podman_v2_rootless.txt",
     "/user.slice/user-1000.slice/user@1000.service/user.slice/"
     "libpod-6c2e0ef82b15fc467fe93e81dd58a0c1f9a51bb5d9fb33fdebd0bd6ba93e3c41.scope",
     "", "", "user@1000.service", ""},
    {"podman_conmon_v2.txt",
     "/machine.slice/"
     "libpod-conmon-f0603577aa6c55e0d19d3572186e5761b1524bf0b0947c5eba021711473613ef.scope",
     "", "", "", ""},
    {"podman_v1_cgroupfs.txt",
     "/libpod_parent/libpod-b044da05ca4ed81004c1dec8ee162646ffa9204c1c9eeb488c6daa9b7fcd3ce2",
     "b044da05ca4ed81004c1dec8ee162646ffa9204c1c9eeb488c6daa9b7fcd3ce2", "", "", ""},
    {"systemd_service_v2.txt", "/system.slice/nginx.service", "", "", "nginx.service", ""},
    {"systemd_template_v2.txt", "/system.slice/system-getty.slice/getty@tty1.service", "", "",
     "getty@tty1.service", ""},
    {"systemd_service_hybrid.txt", "/system.slice/sshd.service", "", "", "sshd.service", ""},
    {"user_session_v2.txt", "/user.slice/user-1000.slice/session-3.scope", "", "", "", ""},
    {"user_service_v2.txt", "/user.slice/user-1000.slice/user@1000.service/app.slice/myapp.service",
     "", "", "user@1000.service", "myapp.service"},
    {"user_manager_v2.txt", "/user.slice/user-1000.slice/user@1000.service/init.scope", "", "",
     "user@1000.service", ""},
    {"init_scope_v2.txt", "/init.scope", "", "", "", ""},
    {"host_root_v2.txt", "/", "", "", "", ""},
    {"cgroupns_relative_v2.txt",
     "/../../kubepods-besteffort-pod75b7d1fb_63c0_ad39_95bd_6c96fde1797a.slice/"
     "cri-containerd-db3ce587e4620fcd39a4d824aebf9c5ec6211d3d1d09155e1cd9d00e5d07844d.scope",
     "db3ce587e4620fcd39a4d824aebf9c5ec6211d3d1d09155e1cd9d00e5d07844d",
     "75b7d1fb-63c0-ad39-95bd-6c96fde1797a", "", ""},
    {"sandbox_v1_memory_only.txt", "/process_api/08882179835e7782aac30ceae31f4d4b", "", "", "", ""},
};

class process_cgroup_fixture : public ::testing::TestWithParam<Case> {};

TEST_P(process_cgroup_fixture, ReadsRuntimeLayout) {
  const Case& c = GetParam();
  auto lines = ParseCgroupFile(ReadFileOrDie(TestData(std::string("cgroup/") + c.file)));
  ASSERT_TRUE(lines.ok()) << lines.status();
  auto info = AnalyzeCgroups(*lines);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->path, c.path);
  EXPECT_EQ(info->container_id, c.container_id);
  EXPECT_EQ(info->pod_uid, c.pod_uid);
  EXPECT_EQ(info->systemd_unit, c.unit);
  EXPECT_EQ(info->systemd_user_unit, c.user_unit);
}

INSTANTIATE_TEST_SUITE_P(All, process_cgroup_fixture, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string n = i.param.file;
                           n = n.substr(0, n.find('.'));
                           for (char& ch : n) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

TEST(process_cgroup, EveryFixtureIsInTheTable) {
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(TestData("cgroup"))) {
    std::string name = e.path().filename().string();
    if (name == "conflict_v1.txt") continue;  // the negative case below
    ++files;
    bool found = false;
    for (const Case& c : kCases) found |= name == c.file;
    EXPECT_TRUE(found) << name << " has no expected reading";
  }
  EXPECT_EQ(files, std::size(kCases));
}

TEST(process_cgroup, HybridPrefersV1OverUnifiedLine) {
  auto info =
      AnalyzeCgroups(*ParseCgroupFile(ReadFileOrDie(TestData("cgroup/crio_hybrid_v1.txt"))));
  ASSERT_TRUE(info.ok());
  // The 0:: line shows crio.service; the runtime placed the process in the v1 hierarchies.
  EXPECT_EQ(info->source, "name=systemd");
  auto v2 =
      AnalyzeCgroups(*ParseCgroupFile(ReadFileOrDie(TestData("cgroup/docker_v2_systemd.txt"))));
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->source, "0::");
}

TEST(process_cgroup, OnlyThePrimaryHierarchyCounts) {
  // The primary (name=systemd) line names no container; ids in other hierarchies, which
  // may have been arranged by someone else, are never used.
  auto info = AnalyzeCgroups(*ParseCgroupFile(ReadFileOrDie(TestData("cgroup/conflict_v1.txt"))));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->container_id, "");
  EXPECT_EQ(info->pod_uid, "");
  EXPECT_EQ(info->systemd_unit, "foo.service");
  auto other = AnalyzeCgroups(*ParseCgroupFile(
      "3:memory:/machine.slice/libpod-conmon-"
      "f0603577aa6c55e0d19d3572186e5761b1524bf0b0947c5eba021711473613ef.scope\n"
      "2:pids:/docker/f0603577aa6c55e0d19d3572186e5761b1524bf0b0947c5eba021711473613ef\n"
      "1:name=systemd:/system.slice/x.service\n"));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->container_id, "");
  EXPECT_EQ(other->systemd_unit, "x.service");
}

const std::string kVictim = "ce9da201e0c0d1a0dc00f0e71a714a16e81c1aad236d31def0b9d2993134b65a";
const std::string kMine = std::string(64, 'a');
const std::string kVictimPod = "kubepods-besteffort-pod11e9577d_7d5a_bfdc_b64f_3f0468e068a2.slice";

TEST(process_cgroup, ForgedIdsInADelegatedSubtreeAreNotContainerIds) {
  // Issue 15 item 2: a login user builds the victim's layout in its own subtree.
  CgroupIds ids = IdsFromPath("/user.slice/user-1000.slice/user@1000.service/app.slice/" +
                              kVictimPod + "/cri-containerd-" + kVictim + ".scope");
  EXPECT_EQ(ids.container_id, "");
  EXPECT_EQ(ids.pod_uid, "");
  // What a rootless runtime would report instead: qualified by the subtree's owner.
  EXPECT_EQ(ids.rootless_uid, "1000");
  EXPECT_EQ(ids.rootless_container_id, kVictim);
  // Rootless fixtures.
  auto docker = AnalyzeCgroups(
      *ParseCgroupFile(ReadFileOrDie(TestData("cgroup/docker_rootless_v2.txt"))));
  ASSERT_TRUE(docker.ok());
  EXPECT_EQ(docker->rootless_uid, "1000");
  EXPECT_EQ(docker->rootless_container_id,
            "8995efeba9032050d09c5892503e12b47fa42f93ceaf2ffbf3e0b6e9aba45ee6");
  // A user subtree without a runtime scope prefix gives nothing at all.
  EXPECT_EQ(IdsFromPath("/user.slice/user-1000.slice/user@1000.service/" + kVictim)
                .rootless_container_id,
            "");
  // Not below a user manager and not under a runtime prefix: nothing.
  for (std::string path : {"/foo/docker/" + kVictim, "/system.slice/foo.service/docker-" + kVictim + ".scope",
                           "/system.slice/sshd.service/" + kVictimPod + "/cri-containerd-" + kVictim + ".scope",
                           "/user.slice/user-1000.slice/session-3.scope/docker-" + kVictim + ".scope",
                           "/process_api/" + kVictimPod + "/cri-containerd-" + kVictim + ".scope"}) {
    CgroupIds none = IdsFromPath(path);
    EXPECT_EQ(none.container_id, "") << path;
    EXPECT_EQ(none.pod_uid, "") << path;
    EXPECT_EQ(none.rootless_container_id, "") << path;
  }
}

TEST(process_cgroup, NothingBelowAMatchedContainerCounts) {
  // A container with a writable cgroupfs nests the victim's layout below its own scope.
  for (std::string path : {"/system.slice/docker-" + kMine + ".scope/kubepods.slice/" + kVictimPod +
                               "/cri-containerd-" + kVictim + ".scope",
                           "/docker/" + kMine + "/docker/" + kVictim,
                           "/machine.slice/libpod-" + kMine + ".scope/container/docker-" + kVictim + ".scope",
                           "/kubepods/besteffort/pod11e9577d-7d5a-bfdc-b64f-3f0468e068a2/" + kMine +
                               "/pod22222222-7d5a-bfdc-b64f-3f0468e068a2/" + kVictim}) {
    CgroupIds ids = IdsFromPath(path);
    EXPECT_EQ(ids.container_id, kMine) << path;
    EXPECT_NE(ids.pod_uid, "22222222-7d5a-bfdc-b64f-3f0468e068a2") << path;
  }
}

TEST(process_cgroup, MonitorSegmentGivesNothing) {
  CgroupIds ids = IdsFromPath("/machine.slice/libpod-conmon-" + kVictim + ".scope");
  EXPECT_TRUE(ids.monitor);
  EXPECT_EQ(ids.container_id, "");
}

TEST(process_cgroup, MalformedFilesNameTheLine) {
  struct Bad {
    const char* text;
    const char* message;
  } bad[] = {
      {"", "cgroup file has no lines"},
      {"\n\n", "cgroup file has no lines"},
      {"0::/ok\nnonsense\n", "cgroup line 2 has fewer than 3 ':'-separated fields"},
      {"x:memory:/a\n", "cgroup line 1 has a bad hierarchy id \"x\""},
      {"1:memory:relative\n", "cgroup line 1 has a path not starting with '/'"},
      {"1:memory:\n", "cgroup line 1 has a path not starting with '/'"},
  };
  for (const Bad& b : bad) {
    auto lines = ParseCgroupFile(b.text);
    ASSERT_FALSE(lines.ok()) << b.text;
    EXPECT_EQ(lines.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(lines.status().message()), b.message);
  }
}

TEST(process_cgroup, ContainerIdNeeds64LowercaseHex) {
  const std::string id(64, 'a');
  bool monitor = false;
  EXPECT_EQ(ContainerIdFromSegment(id, &monitor), id);
  EXPECT_EQ(ContainerIdFromSegment("docker-" + id + ".scope", &monitor), id);
  EXPECT_EQ(ContainerIdFromSegment(std::string(63, 'a'), &monitor), "");
  EXPECT_EQ(ContainerIdFromSegment(std::string(64, 'A'), &monitor), "");
  EXPECT_EQ(ContainerIdFromSegment(std::string(64, 'g'), &monitor), "");
  EXPECT_EQ(ContainerIdFromSegment("docker.service", &monitor), "");
  EXPECT_EQ(IdsFromPath("/docker/" + id).container_id, id);
  EXPECT_EQ(IdsFromPath("/").container_id, "");
  // Outermost wins.
  EXPECT_EQ(IdsFromPath("/docker/" + id + "/kubepods/" + std::string(64, 'b')).container_id, id);
}

TEST(process_cgroup, PodUidForms) {
  EXPECT_EQ(PodUidFromSegment("podAABBCCDD-1111-2222-3333-444455556666"),
            "aabbccdd-1111-2222-3333-444455556666");
  EXPECT_EQ(PodUidFromSegment("kubepods-pod12345678_1234_1234_1234_123456789012.slice"),
            "12345678-1234-1234-1234-123456789012");
  EXPECT_EQ(PodUidFromSegment("pod1234"), "");  // too short
  EXPECT_EQ(PodUidFromSegment("podzzzzzzzz-1111-2222-3333-444455556666"), "");
  EXPECT_EQ(PodUidFromSegment("pod12345678+1234-1234-1234-123456789012"), "");
  // Only under a Kubernetes prefix.
  EXPECT_EQ(IdsFromPath("/a/pod12345678-1234-1234-1234-123456789012").pod_uid, "");
  EXPECT_EQ(IdsFromPath("/kubepods/pod12345678-1234-1234-1234-123456789012").pod_uid,
            "12345678-1234-1234-1234-123456789012");
}

}  // namespace
}  // namespace twi::process
