package org.mikrotext.store.control;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The data source class behind {@code java:app/jdbc/mikrotext}: it picks the JDBC driver from the URL, so that
 * one build runs on PostgreSQL ({@code DB_URL=jdbc:postgresql://…}) and on the embedded H2 default alike,
 * without rebuilding. The application server pools the connections it hands out.
 */
public class SwitchingDataSource implements DataSource {

    private String url;
    private String user;
    private String password;
    private int loginTimeout;
    private PrintWriter logWriter;

    public void setUrl(String url) {
        this.url = url;
    }

    public String getUrl() {
        return url;
    }

    /** Alias that some pool implementations call. */
    public void setURL(String url) {
        setUrl(url);
    }

    public void setUser(String user) {
        this.user = user;
    }

    public String getUser() {
        return user;
    }

    public void setPassword(String password) {
        this.password = password;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return getConnection(user, password);
    }

    @Override
    public Connection getConnection(String username, String secret) throws SQLException {
        Properties props = new Properties();
        if (username != null && !username.isEmpty()) {
            props.setProperty("user", username);
        }
        if (secret != null && !secret.isEmpty()) {
            props.setProperty("password", secret);
        }
        Connection connection = driverFor(url).connect(url, props);
        if (connection == null) {
            throw new SQLException("The database URL is not understood by its driver");
        }
        return connection;
    }

    static Driver driverFor(String url) throws SQLException {
        String className;
        if (url == null) {
            throw new SQLException("No database URL is configured");
        } else if (url.startsWith("jdbc:postgresql:")) {
            className = "org.postgresql.Driver";
        } else if (url.startsWith("jdbc:h2:")) {
            className = "org.h2.Driver";
        } else {
            throw new SQLException("Unsupported database URL: only jdbc:postgresql: and jdbc:h2: are supported");
        }
        try {
            return (Driver) Class.forName(className, true, SwitchingDataSource.class.getClassLoader())
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new SQLException("The JDBC driver " + className + " is not available", e);
        }
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    @Override
    public void setLoginTimeout(int seconds) {
        this.loginTimeout = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeout;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("Not a wrapper of " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }
}
