package org.mikrotext.store.control;

import java.util.UUID;
import javax.sql.DataSource;

/** {@link EnvelopeBatchTest} on H2 in PostgreSQL mode, the database of the zero-configuration default. */
class EnvelopeBatchH2Test extends EnvelopeBatchTest {

    @Override
    DataSource freshDatabase() {
        SwitchingDataSource database = new SwitchingDataSource();
        database.setUrl("jdbc:h2:mem:" + UUID.randomUUID() + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1");
        database.setUser("sa");
        return database;
    }
}
