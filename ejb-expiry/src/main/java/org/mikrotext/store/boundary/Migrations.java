package org.mikrotext.store.boundary;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.Resource;
import jakarta.annotation.sql.DataSourceDefinition;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.TransactionManagement;
import jakarta.ejb.TransactionManagementType;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * Defines MikroText's data source and brings its schema up to date with Flyway before anything else runs.
 * The database comes from the environment: {@code DB_URL}, {@code DB_USER}, {@code DB_PASSWORD}; with none set,
 * an H2 file database under {@code ./mikrotext-data} (so rooms survive a restart of the default).
 */
@DataSourceDefinition(
        name = Migrations.DATA_SOURCE,
        className = "org.mikrotext.store.control.SwitchingDataSource",
        url = "${ENV=DB_URL:jdbc:h2:file:./mikrotext-data/mikrotext;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE}",
        user = "${ENV=DB_USER:sa}",
        password = "${ENV=DB_PASSWORD:}",
        minPoolSize = 2,
        maxPoolSize = 32,
        initialPoolSize = 2,
        loginTimeout = 5,
        properties = {
            // Survive a database restart without restarting the relay: validate pooled connections, drop them all
            // when one is found dead, and never keep a request waiting long for a connection.
            "fish.payara.is-connection-validation-required=true",
            "fish.payara.connection-validation-method=custom-validation",
            "fish.payara.validation-classname=org.glassfish.api.jdbc.validation.JDBC40ConnectionValidation",
            "fish.payara.fail-all-connections=true",
            // Validating costs a round trip; once a second per connection is enough to notice a restart.
            "fish.payara.validate-atmost-once-period-in-seconds=1",
            "fish.payara.max-wait-time-in-millis=5000"
        })
@Singleton
@Startup
@TransactionManagement(TransactionManagementType.BEAN)
public class Migrations {

    public static final String DATA_SOURCE = "java:app/jdbc/mikrotext";

    private static final Logger LOG = Logger.getLogger(Migrations.class.getName());

    @Resource(lookup = DATA_SOURCE)
    DataSource dataSource;

    @PostConstruct
    void migrate() {
        var result = Flyway.configure(Migrations.class.getClassLoader())
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .load()
                .migrate();
        LOG.info(() -> "Schema at version " + result.targetSchemaVersion + " (" + result.migrationsExecuted
                + " migrations applied now)");
    }
}
