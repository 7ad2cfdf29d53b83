package stack.neo4j;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.neo4j.cli.ExecutionContext;
import org.neo4j.commandline.admin.security.SetInitialPasswordCommand;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.SettingValueParsers;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.internal.kernel.api.connectioninfo.ClientConnectionInfo;
import org.neo4j.internal.kernel.api.security.AuthenticationResult;
import org.neo4j.internal.kernel.api.security.LoginContext;
import org.neo4j.io.fs.DefaultFileSystemAbstraction;
import org.neo4j.kernel.api.security.AuthManager;
import org.neo4j.kernel.api.security.AuthToken;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.logging.log4j.Log4jLogProvider;
import picocli.CommandLine;

/**
 * Runs a real Neo4j Community DBMS (embedded, Bolt on 127.0.0.1 only) for local tests and benchmarks.
 *
 * <p>Each option is {@code --name=value}, else the environment variable, else the default:
 * <pre>
 *   --home=DIR            NEO4J_SERVER_HOME           required; data lives in DIR/data
 *   --password-file=FILE  NEO4J_SERVER_PASSWORD_FILE  required; first line = password of user neo4j
 *   --port=N              NEO4J_SERVER_PORT           7687
 *   --import-dir=DIR      NEO4J_SERVER_IMPORT_DIR     DIR/import of --home; root of LOAD CSV 'file:///...'
 *   --pagecache=SIZE      NEO4J_SERVER_PAGECACHE      512m
 *   --tx-memory=SIZE      NEO4J_SERVER_TX_MEMORY      half of -Xmx (all running transactions together)
 * </pre>
 * Heap is a JVM flag, so it belongs on the java command line (-Xms2g -Xmx2g suits a 24 GiB, 2-core box).
 */
public final class Neo4jServer {

    public static void main(String[] args) {
        // What the neo4j start script passes; must be set before Netty and Log4j load.
        System.setProperty("io.netty.tryReflectionSetAccessible", "true");
        System.setProperty("log4j2.disable.jmx", "true");
        Map<String, String> opts = parse(args);
        DatabaseManagementService dbms;
        int port;
        try {
            Path home = Path.of(option(opts, "home", "NEO4J_SERVER_HOME", null)).toAbsolutePath();
            Path importDir = Path.of(option(opts, "import-dir", "NEO4J_SERVER_IMPORT_DIR",
                    home.resolve("import").toString())).toAbsolutePath();
            port = Integer.parseInt(option(opts, "port", "NEO4J_SERVER_PORT", "7687"));
            String password = readPassword(Path.of(option(opts, "password-file", "NEO4J_SERVER_PASSWORD_FILE", null)));
            Files.createDirectories(importDir);
            Path logConfig = Files.createDirectories(home.resolve("conf")).resolve("server-logs.xml");
            try (var in = Neo4jServer.class.getResourceAsStream("server-logs.xml")) {
                Files.copy(in, logConfig, StandardCopyOption.REPLACE_EXISTING);
            }

            // The system database only takes an initial password when it is created, and the
            // auth.ini route (what `neo4j-admin dbms set-initial-password` writes) means the default
            // neo4j/neo4j account is never reachable over Bolt, not even for a moment.
            if (Files.notExists(home.resolve("data/databases/system"))) {
                setInitialPassword(home, password);
            }

            Map<org.neo4j.graphdb.config.Setting<?>, Object> config = new HashMap<>();
            config.put(BoltConnector.enabled, true);
            config.put(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port));
            config.put(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port));
            config.put(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED);
            config.put(HttpConnector.enabled, false);
            // Netty's default 5 s quiet period, once per connector, would make SIGTERM take 10+ s.
            config.put(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0);
            config.put(GraphDatabaseSettings.auth_enabled, true);
            config.put(GraphDatabaseSettings.server_logging_config_path, logConfig);
            config.put(GraphDatabaseSettings.load_csv_file_url_root, importDir);
            config.put(GraphDatabaseSettings.pagecache_memory,
                    bytes(option(opts, "pagecache", "NEO4J_SERVER_PAGECACHE", "512m")));
            // Below the heap, so an oversized transaction fails with Neo4j's MemoryPoolOutOfMemoryError
            // instead of a Java heap OutOfMemoryError.
            config.put(GraphDatabaseSettings.memory_transaction_global_max_size,
                    bytes(option(opts, "tx-memory", "NEO4J_SERVER_TX_MEMORY",
                            String.valueOf(Runtime.getRuntime().maxMemory() / 2))));
            // A throwaway server must not phone home from CI.
            config.put(GraphDatabaseSettings.udc_enabled, false);

            dbms = new DatabaseManagementServiceBuilder(home)
                    .setConfig(config)
                    .setUserLogProvider(new Log4jLogProvider(System.out))
                    .build();
            DatabaseManagementService running = dbms;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                running.shutdown();
                System.out.println("neo4j stopped");
            }, "neo4j-shutdown"));

            syncPassword(dbms, password);
            // Only read while the system database is created; no reason to keep a hash lying around.
            Files.deleteIfExists(home.resolve("data/dbms/auth.ini"));
            if (!dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).isAvailable(TimeUnit.MINUTES.toMillis(5))) {
                throw new IllegalStateException("database 'neo4j' did not become available");
            }
            awaitListening(port, Duration.ofSeconds(30));
        } catch (Throwable e) {
            System.err.println("neo4j-server: failed to start: " + describe(e));
            System.exit(1);
            return;
        }
        System.out.println("neo4j ready bolt://127.0.0.1:" + port);
        System.out.flush();
        // Runs until SIGTERM/SIGINT; the shutdown hook then closes the store cleanly.
        try {
            Thread.currentThread().join();
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
    }

    private static void setInitialPassword(Path home, String password) {
        PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
        var context = new ExecutionContext(home, home.resolve("conf"), discard, System.err,
                new DefaultFileSystemAbstraction());
        // "--" keeps a password that starts with '-' from being read as an option.
        int rc = new CommandLine(new SetInitialPasswordCommand(context)).execute("--", password);
        if (rc != 0) {
            throw new IllegalStateException("could not set the initial password (see above)");
        }
    }

    // The password file stays the source of truth on restarts too. A direct login check avoids
    // compiling ALTER USER (several seconds of Cypher warm-up) when nothing changed.
    private static void syncPassword(DatabaseManagementService dbms, String password) throws Exception {
        var system = (GraphDatabaseAPI) dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        LoginContext login = system.getDependencyResolver().resolveDependency(AuthManager.class)
                .login(AuthToken.newBasicAuthToken("neo4j", password), ClientConnectionInfo.EMBEDDED_CONNECTION);
        if (login.subject().getAuthenticationResult() != AuthenticationResult.SUCCESS) {
            system.executeTransactionally("ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", password));
        }
    }

    // Bolt is bound by the time build() returns; the probe makes "ready" mean a client can connect.
    private static void awaitListening(int port, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("bolt port " + port + " is not accepting connections", e);
                }
                Thread.sleep(100);
            }
        }
    }

    private static String readPassword(Path file) {
        String password;
        try {
            password = Files.readString(file).lines().findFirst().orElse("");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read password file " + file + " (" + e + ")");
        }
        if (password.isEmpty()) {
            throw new IllegalArgumentException("password file " + file + " is empty");
        }
        return password;
    }

    private static long bytes(String size) {
        return SettingValueParsers.BYTES.parse(size);
    }

    private static final Set<String> OPTIONS =
            Set.of("home", "password-file", "port", "import-dir", "pagecache", "tx-memory");

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 0 || !OPTIONS.contains(arg.substring(2, eq))) {
                System.err.println("neo4j-server: unknown argument " + arg + "; expected --name=value, name one of " + OPTIONS);
                System.exit(2);
            }
            opts.put(arg.substring(2, eq), arg.substring(eq + 1));
        }
        return opts;
    }

    private static String option(Map<String, String> opts, String name, String env, String fallback) {
        String value = opts.getOrDefault(name, System.getenv(env));
        if (value == null || value.isEmpty()) {
            value = fallback;
        }
        if (value == null) {
            throw new IllegalArgumentException("missing --" + name + " (or " + env + ")");
        }
        return value;
    }

    // Neo4j wraps the real reason (e.g. "Address already in use") a few levels deep.
    private static String describe(Throwable e) {
        StringBuilder out = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c.getMessage() != null && !out.toString().contains(c.getMessage())) {
                out.append(": ").append(c.getMessage());
            }
        }
        return out.toString();
    }
}
